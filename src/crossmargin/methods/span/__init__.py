"""CME SPAN: risk-parameter files (SPAN 4 XML), their reader and writer, the calculation."""
