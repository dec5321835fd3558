"""Money, currencies, errors and typing aliases; imports nothing else of the package."""
