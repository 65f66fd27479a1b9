"""The error tree: one root carrying context, one home for every error the framework defines."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import hi.integrations
from hi.integrations.core import errors
from hi.integrations.core.errors import (
    CannotConnect,
    ConnectionTestFailed,
    HiError,
    IllegalTransition,
    IntegrationAuthFailed,
    IntegrationError,
    IntegrationFailure,
    IntegrationNotReady,
    InvalidAuth,
    ProviderAuthError,
    ProviderDataError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    UnsafeDestination,
    UnsafeURL,
    set_up_failure,
)
from hi.integrations.models import Integration, IntegrationState

#: Folders that are not the framework's runtime code.
NOT_RUNTIME = (".tests", ".testing", ".migrations")


def runtime_modules() -> list[str]:
    """Every runtime module of the framework, by name."""
    found = []
    for info in pkgutil.walk_packages(hi.integrations.__path__, "hi.integrations."):
        if not any(part in info.name for part in NOT_RUNTIME):
            found.append(info.name)
    return found


def test_every_exception_the_framework_defines_is_under_the_one_root_and_lives_in_core_errors():
    """Given every runtime module of the framework, then each exception class it defines is a HiError defined in core/errors.py."""
    strays = []
    for name in runtime_modules():
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__ != name or not issubclass(value, BaseException):
                continue
            if name != errors.__name__ or not issubclass(value, HiError):
                strays.append(f"{name}.{value.__name__}")
    assert strays == []
    assert len(runtime_modules()) > 60  # the walk saw the whole framework


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (IntegrationNotReady, IntegrationFailure), (IntegrationAuthFailed, IntegrationFailure), (IntegrationError, IntegrationFailure),
        (CannotConnect, ConnectionTestFailed), (InvalidAuth, ConnectionTestFailed),
        (ProviderTimeout, ProviderUnavailable), (UnsafeDestination, ProviderRejected), (ProviderRateLimited, ProviderError),
        (IntegrationFailure, HiError), (ConnectionTestFailed, HiError), (ProviderError, HiError),
        # Callers that catch ValueError keep catching these.
        (UnsafeURL, ValueError), (ProviderDataError, ValueError),
    ],
)
def test_the_branches_of_the_tree(child, parent):
    """The set-up, connection-test and provider-call classes sit on their branches under the root."""
    assert issubclass(child, parent)


def test_a_provider_error_carries_its_context():
    """Given a provider's refusal, then the error says which provider, which status and what it answered."""
    error = ProviderAuthError("iFood", "credentials refused", 401, "invalid token")
    assert error.context() == {"provider": "iFood", "status": 401, "excerpt": "invalid token"}
    assert str(error) == "iFood: credentials refused (HTTP 401): invalid token"


def test_any_error_of_the_tree_can_carry_context_and_keeps_its_message():
    """Given a set-up failure raised with context, then the message is unchanged and the context is kept."""
    error = IntegrationNotReady("the provider is busy", provider="Demo", integration="42", status=503)
    assert str(error) == "the provider is busy"
    assert error.context() == {"provider": "Demo", "integration": "42", "status": 503}
    assert HiError("plain").context() == {}


def test_set_up_failure_maps_provider_errors_to_the_set_up_classes():
    """A refused credential is auth failed, an outage or a rate limit is not ready, anything else is permanent."""
    assert type(set_up_failure(ProviderAuthError("P", "refused", 401))) is IntegrationAuthFailed
    assert type(set_up_failure(ProviderUnavailable("P", "down", 503))) is IntegrationNotReady
    assert type(set_up_failure(ProviderRateLimited("P", "slow down"))) is IntegrationNotReady
    assert type(set_up_failure(ProviderRejected("P", "bad request", 400))) is IntegrationError


def test_an_illegal_transition_names_the_integration_it_refused():
    """Given an integration that cannot move, then the error carries its id and both states."""
    integration = Integration(name="Shop", state=IntegrationState.DISABLED)
    error = IllegalTransition(integration, IntegrationState.ACTIVE)
    assert error.context() == {"integration": str(integration.pk)}
    assert error.from_state is IntegrationState.DISABLED and error.to_state is IntegrationState.ACTIVE
    assert str(error) == "Shop is in state “Disabled” and cannot move to “Active”."
