"""Collateral: valuation (haircut schedules and eligibility come with their parameter files)."""
