"""Accord schemas."""
