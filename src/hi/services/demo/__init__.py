"""The demo service: a built-in simulated provider to try hi and to copy when writing a service."""
