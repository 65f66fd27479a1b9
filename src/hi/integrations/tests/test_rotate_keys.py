"""Tests of `manage.py hi_rotate_keys` and `manage.py hi_generate_key`."""
from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from hi.integrations.config import hookkeys
from hi.integrations.config.store import save_attributes
from hi.integrations.core import crypto
from hi.integrations.models import Integration, IntegrationAttribute
from hi.workspaces.models import Workspace

from ..core.errors import SecretDecryptionError

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture
def workspace(db) -> Workspace:
    """The default workspace."""
    return Workspace.objects.create(slug="default", name="Default")


def make_integration(workspace: Workspace, unique_id: str, api_key: str) -> Integration:
    """A demo integration with its attributes stored (encrypted) with the current keys."""
    integration = Integration.objects.create(
        workspace=workspace, integration_type="demo", name=unique_id, unique_id=unique_id
    )
    save_attributes(
        integration,
        {"api_url": "http://127.0.0.1:8001", "api_key": api_key, "catalog": "active", "page_size": 100},
        "test",
    )
    return integration


def stored(integration: Integration, key: str) -> str:
    """The raw stored text of one attribute."""
    return IntegrationAttribute.objects.get(integration=integration, key=key).value


def rotate() -> str:
    """Run hi_rotate_keys and return what it printed."""
    out = io.StringIO()
    call_command("hi_rotate_keys", stdout=out)
    return out.getvalue()


def test_rotation_re_encrypts_secrets_with_the_new_key(workspace, settings):
    """Given secrets saved under the old key, when rotated with [new, old], then they decrypt with [new] alone."""
    settings.HI_ENCRYPTION_KEYS = [OLD_KEY]
    first = make_integration(workspace, "acct-1", "secret-one")
    second = make_integration(workspace, "acct-2", "secret-two")
    before = {i.pk: stored(i, "api_key") for i in (first, second)}
    url_before = stored(first, "api_url")
    hook_key = hookkeys.current_key(first)

    settings.HI_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    output = rotate()

    assert "Re-encrypted 4 secret(s)" in output  # two api keys, and the two receive-URL keys
    after = {i.pk: stored(i, "api_key") for i in (first, second)}
    assert all(after[pk] != before[pk] for pk in before)
    assert stored(first, "api_url") == url_before  # plain attributes are untouched
    settings.HI_ENCRYPTION_KEYS = [NEW_KEY]
    assert crypto.decrypt(after[first.pk]) == "secret-one"
    assert crypto.decrypt(after[second.pk]) == "secret-two"
    assert hookkeys.current_key(first, create=False) == hook_key
    settings.HI_ENCRYPTION_KEYS = [OLD_KEY]
    with pytest.raises(SecretDecryptionError):
        crypto.decrypt(after[first.pk])


def test_rotation_skips_empty_secrets(workspace, settings):
    """Given a secret row with no value, when rotated, then it is not counted and stays empty."""
    settings.HI_ENCRYPTION_KEYS = [OLD_KEY]
    integration = make_integration(workspace, "acct-1", "secret-one")
    IntegrationAttribute.objects.filter(integration=integration, key="api_key").update(value="")

    settings.HI_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    output = rotate()

    assert "Re-encrypted 1 secret(s)" in output  # the receive-URL key only
    assert stored(integration, "api_key") == ""


def test_rotation_changes_nothing_when_a_secret_cannot_be_decrypted(workspace, settings):
    """Given one secret made with a key no longer configured, when rotated, then it fails and nothing changes."""
    stray_key = Fernet.generate_key().decode()
    settings.HI_ENCRYPTION_KEYS = [OLD_KEY]
    good = make_integration(workspace, "acct-1", "secret-one")
    settings.HI_ENCRYPTION_KEYS = [stray_key]
    stray = make_integration(workspace, "acct-2", "secret-two")
    before = {i.pk: stored(i, "api_key") for i in (good, stray)}

    settings.HI_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    with pytest.raises(CommandError, match="Nothing was changed"):
        rotate()

    assert {i.pk: stored(i, "api_key") for i in (good, stray)} == before


def test_generate_key_prints_a_new_fernet_key():
    """Given nothing, when a key is generated twice, then each output is a distinct valid Fernet key."""
    outputs = []
    for _ in range(2):
        out = io.StringIO()
        call_command("hi_generate_key", stdout=out)
        outputs.append(out.getvalue().strip())

    for key in outputs:
        Fernet(key.encode())  # raises ValueError if it is not a Fernet key
    assert outputs[0] != outputs[1]
