"""The workspaces hub's tests."""
