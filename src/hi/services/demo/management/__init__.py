"""The demo service's management commands."""
