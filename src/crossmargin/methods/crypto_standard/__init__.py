"""Crypto exchange standard margin (Deribit style): size-scaled futures rates, option formula."""
