"""Accord streaming."""
