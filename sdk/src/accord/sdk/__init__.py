"""Accord sdk."""
