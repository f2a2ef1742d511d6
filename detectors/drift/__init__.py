"""Drift tests, one module per method."""
