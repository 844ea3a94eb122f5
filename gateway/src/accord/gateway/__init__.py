"""Accord gateway."""
