"""The messaging hub's management commands."""
