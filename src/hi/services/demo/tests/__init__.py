"""The demo service's tests."""
