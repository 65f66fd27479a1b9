"""Calling providers: the one HTTP client (guarded transport, retries, breakers, call log); tokens, signing, Standard Webhooks."""
