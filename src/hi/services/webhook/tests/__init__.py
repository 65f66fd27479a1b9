"""The webhook service's tests."""
