"""The framework's management commands."""
