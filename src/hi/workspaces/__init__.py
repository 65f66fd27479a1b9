"""Workspaces: the tenants that own every integration, log row and order."""
