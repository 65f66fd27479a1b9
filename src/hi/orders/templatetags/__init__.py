"""The orders hub's template tags."""
