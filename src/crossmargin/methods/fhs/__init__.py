"""Unified filtered historical simulation margin across all asset classes."""
