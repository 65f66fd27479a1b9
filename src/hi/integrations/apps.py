"""Django app configuration for the integration framework."""
from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """The framework app; registers its system checks on start-up."""

    name = "hi.integrations"
    label = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        """Register system checks, the framework's own directive handlers and log redaction."""
        from . import checks  # noqa: F401
        from .directives import DirectiveHandler, register
        from .entities import SYNC_TOPIC, sync_directive
        from .redaction import install_log_redaction

        # Every process (web, worker, CLI) redacts the secrets it has loaded from every log record.
        install_log_redaction()

        # Operator-requested syncs run in the worker, retried like any provider call; few retries.
        register(DirectiveHandler(SYNC_TOPIC, sync_directive, schedule=(5, 30, 120), max_attempts=4))
