"""The framework's tests."""
