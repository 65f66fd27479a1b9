"""Login throttling: per account and per address, in the database, with a clear message and a CLI unlock."""
from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from hi.workspaces.logins import client_ip

pytestmark = pytest.mark.django_db
PASSWORD = "right-horse-battery-1"


@pytest.fixture(autouse=True)
def limit(settings):
    """Three failures lock (the default is ten): the same rule, quicker to reach."""
    settings.AXES_FAILURE_LIMIT = 3


def attempt(username: str, password: str, address: str = "203.0.113.7"):
    """One login through the real form, from `address`, by a fresh browser."""
    return Client(REMOTE_ADDR=address).post("/login/", {"username": username, "password": password})


def logged_in(response) -> bool:
    """Whether the login succeeded (a redirect to the dashboard with a session)."""
    return response.status_code == 302 and "sessionid" in response.cookies


@pytest.fixture
def ada():
    """An account with a known password."""
    return get_user_model().objects.create_user("ada", password=PASSWORD)


def test_repeated_wrong_passwords_lock_the_account_even_for_the_right_one(ada):
    assert attempt("ada", "wrong").status_code == attempt("ada", "wrong").status_code == 200
    assert attempt("ada", "wrong").status_code == 429  # the third failure locks
    locked = attempt("ada", PASSWORD)
    assert locked.status_code == 429 and not logged_in(locked)
    page = locked.content.decode()
    assert "Too many failed logins" in page and "15 minutes" in page and "axes_reset_username" in page
    # per account: another address does not get in either
    assert attempt("ada", PASSWORD, address="198.51.100.9").status_code == 429


def test_one_address_guessing_many_accounts_is_locked_out(ada):
    for name in ("bob", "cy", "dee"):
        attempt(name, "wrong")
    assert attempt("ada", PASSWORD).status_code == 429
    assert logged_in(attempt("ada", PASSWORD, address="198.51.100.9"))  # the account itself is fine


def test_an_admin_unlocks_an_account_from_the_cli(ada):
    for _ in range(3):
        attempt("ada", "wrong", address=f"198.51.100.{_}")
    assert attempt("ada", PASSWORD, address="192.0.2.1").status_code == 429
    call_command("axes_reset_username", "ada", stdout=io.StringIO())
    assert logged_in(attempt("ada", PASSWORD, address="192.0.2.1"))


def test_a_success_before_the_limit_starts_the_count_again(ada):
    attempt("ada", "wrong")
    attempt("ada", "wrong")
    assert logged_in(attempt("ada", PASSWORD))
    attempt("ada", "wrong")
    attempt("ada", "wrong")
    assert logged_in(attempt("ada", PASSWORD))


def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(settings, rf):
    request = rf.post("/login/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="10.0.0.2")
    settings.HI_BEHIND_PROXY = False
    assert client_ip(request) == "10.0.0.2"
    settings.HI_BEHIND_PROXY = True
    assert client_ip(request) == "203.0.113.7"  # the visitor's own "6.6.6.6" is not trusted
