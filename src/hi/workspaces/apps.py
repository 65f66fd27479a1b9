"""Django app configuration for workspaces."""
from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    """The tenants app."""

    name = "hi.workspaces"
    label = "workspaces"
    verbose_name = "Workspaces"
