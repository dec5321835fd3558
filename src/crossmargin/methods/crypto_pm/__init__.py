"""Crypto exchange scenario portfolio margin (Deribit / Derive style), ``crypto-pm``."""
