"""Margin arrangements: today's silos, the conservative-of-two rule, one unified portfolio."""
