"""The webhook service's management commands."""
