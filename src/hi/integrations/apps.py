"""Django app configuration for the integration framework."""
from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """The framework app; registers its system checks on start-up."""

    name = "hi.integrations"
    label = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        """Register system checks, the framework's own directive handlers, log redaction and receive-URL keys for new integrations."""
        from django.db.models.signals import post_save

        from . import checks  # noqa: F401
        from .config.hookkeys import issue_for_new_integration
        from .contract.declarations import DirectiveHandler
        from .core.crypto import register_encrypted_field
        from .core.redaction import install_log_redaction
        from .engine.sync import SYNC_TOPIC, sync_directive
        from .models import Integration
        from .outbox.directives import register

        # Every process (web, worker, CLI) redacts the secrets it has loaded from every log record.
        install_log_redaction()
        # Every integration, however it is created, gets the secret key of its receive URL at once.
        post_save.connect(issue_for_new_integration, sender=Integration, dispatch_uid="hi.hookkeys.issue")
        register_encrypted_field("integrations.HookKey", "encrypted")

        # Operator-requested syncs run in the worker, retried like any provider call; few retries.
        register(DirectiveHandler(SYNC_TOPIC, sync_directive, schedule=(5, 30, 120), max_attempts=4))
