"""Accord registry."""
