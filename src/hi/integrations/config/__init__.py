"""Integrations' configuration and state: attribute store, lifecycle, the set-up flow, entities, receive-URL keys, the integration log."""
