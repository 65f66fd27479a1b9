"""The workspaces hub's management commands."""
