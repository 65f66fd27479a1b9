"""Calling providers: the one HTTP client with its guarded transport, retries, breakers and call log; tokens, signing, Standard Webhooks, the outbound guard."""
