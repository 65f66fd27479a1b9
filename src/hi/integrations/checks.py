"""System checks: every IntegrationType's app is installed and its gateway fulfils the contract."""
from __future__ import annotations

from typing import Iterable

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .contract.gateway import contract_problems
from .outbound.ssrf import allowed_networks
from .types import IntegrationType


def integration_type_errors(types: Iterable[IntegrationType]) -> list[checks.CheckMessage]:
    """Errors for types whose app is missing or whose gateway is incomplete."""
    errors: list[checks.CheckMessage] = []
    for member in types:
        if not apps.is_installed(member.app):
            errors.append(
                checks.Error(
                    f"IntegrationType.{member.name} needs the app {member.app!r}, which is not installed.",
                    hint=f"Add {member.app!r} to INSTALLED_APPS.",
                    id="hi.E001",
                )
            )
            continue
        try:
            gateway_class = import_string(member.gateway_path)
        except ImportError as exc:
            errors.append(
                checks.Error(
                    f"IntegrationType.{member.name}: cannot import {member.gateway_path}: {exc}",
                    id="hi.E002",
                )
            )
            continue
        for problem in contract_problems(gateway_class):
            errors.append(
                checks.Error(
                    f"IntegrationType.{member.name}: gateway {member.gateway_path} {problem}.",
                    hint="See docs/developers.md, 'The gateway contract'.",
                    id="hi.E003",
                )
            )
    return errors


@checks.register()
def check_integration_types(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Fail start-up when an integration type is not installed or its gateway misses the contract."""
    return integration_type_errors(IntegrationType)


@checks.register(checks.Tags.security, deploy=True)
def check_keys_from_environment(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Warn when secrets come from generated local files rather than the environment."""
    warnings: list[checks.CheckMessage] = []
    if not settings.HI_SECRET_KEY_FROM_ENV:
        warnings.append(
            checks.Warning(
                "HI_SECRET_KEY is not set; a generated key in var/ is used.",
                hint="Set HI_SECRET_KEY in the environment of every process.",
                id="hi.W001",
            )
        )
    if not settings.HI_ENCRYPTION_KEYS_FROM_ENV:
        warnings.append(
            checks.Warning(
                "HI_ENCRYPTION_KEYS is not set; a generated key in var/ encrypts secrets.",
                hint="Set HI_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first).",
                id="hi.W002",
            )
        )
    return warnings


@checks.register(checks.Tags.security, deploy=True)
def check_metrics_exposure(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Warn when /metrics answers anyone: HI_METRICS_OPEN without a token."""
    if getattr(settings, "HI_METRICS_OPEN", False) and not getattr(settings, "HI_METRICS_TOKEN", ""):
        return [
            checks.Warning(
                "HI_METRICS_OPEN is set without HI_METRICS_TOKEN: "
                "/metrics lists every workspace's integration ids to anyone who can reach it.",
                hint="Set HI_METRICS_TOKEN (and scrape with a bearer token), or keep hi unreachable from outside the monitoring network.",
                id="hi.W003",
            )
        ]
    return []


@checks.register()
def check_outbound_allowed_networks(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Fail start-up when HI_OUTBOUND_ALLOWED_NETWORKS (or its older name) holds something that is not a network."""

    try:
        allowed_networks()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint="Use CIDR networks, e.g. 10.0.0.0/8,192.168.1.0/24.", id="hi.E004")]
    return []
