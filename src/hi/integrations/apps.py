"""Django app configuration for the integration framework."""
from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """The framework app; registers its system checks on start-up."""

    name = "hi.integrations"
    label = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        """Register system checks."""
        from . import checks  # noqa: F401
