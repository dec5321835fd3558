"""Linear asset/liability-weight cross margin (Drift, Mango, dYdX style)."""
