"""The orders hub's management commands."""
