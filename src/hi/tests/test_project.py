"""Project wiring: settings from the environment, the deploy check, first-run set-up."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.management import call_command

from hi.workspaces.models import Membership, Role, Workspace

ROOT = Path(__file__).resolve().parents[3]


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process with only the given environment on top of PATH."""
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_production_values_make_the_deploy_check_silent(tmp_path):
    env = {
        "HI_SECRET_KEY": Fernet.generate_key().decode() * 2,
        "HI_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
        "HI_ALLOWED_HOSTS": "hi.example.com",
        "HI_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_missing_keys_are_reported_by_the_deploy_check(tmp_path):
    env = {"HI_ALLOWED_HOSTS": "hi.example.com", "HI_VAR_DIR": str(tmp_path)}
    result = run_manage("check", "--deploy", env=env)
    assert "hi.W001" in result.stderr + result.stdout and "hi.W002" in result.stderr + result.stdout


def test_the_embedded_default_needs_no_configuration(tmp_path):
    result = run_manage("check", env={"HI_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret_key").exists() and (tmp_path / "encryption_key").exists()
    assert oct((tmp_path / "encryption_key").stat().st_mode)[-3:] == "600"


def test_the_outbound_allow_list_is_read_under_its_new_and_its_older_name(tmp_path):
    env = {"HI_VAR_DIR": str(tmp_path), "HI_OUTBOUND_ALLOWED_NETWORKS": "10.0.0.0/8", "HI_WEBHOOK_ALLOWED_NETWORKS": "192.168.0.0/16"}
    script = "from hi.integrations.outbound.ssrf import allowed_networks; print(sorted(str(n) for n in allowed_networks()))"
    result = run_manage("shell", "-c", script, env=env)
    assert result.stdout.strip().splitlines()[-1] == "['10.0.0.0/8', '192.168.0.0/16']", result.stderr
    result = run_manage("check", env={**env, "HI_WEBHOOK_ALLOWED_NETWORKS": "10.0.0.1/8"})
    assert result.returncode != 0 and "hi.E004" in result.stderr + result.stdout


@pytest.mark.django_db
def test_hi_setup_is_idempotent_and_prints_a_generated_password_once(monkeypatch):
    monkeypatch.delenv("HI_ADMIN_PASSWORD", raising=False)
    first, second = io.StringIO(), io.StringIO()
    call_command("hi_setup", stdout=first)
    call_command("hi_setup", stdout=second)
    assert "Operator login: admin / " in first.getvalue()
    assert "Operator login" not in second.getvalue()
    password = first.getvalue().split("Operator login: admin / ")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password(password)
    assert Workspace.objects.filter(slug="default").count() == 1
    assert Membership.objects.get(user=admin).role == Role.ADMIN


@pytest.mark.django_db
def test_hi_setup_takes_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("HI_ADMIN_PASSWORD", "from-the-env-1234")
    out = io.StringIO()
    call_command("hi_setup", stdout=out)
    assert "from-the-env-1234" not in out.getvalue()
    assert get_user_model().objects.get(username="admin").check_password("from-the-env-1234")


@pytest.mark.django_db
def test_login_and_error_pages(client):
    assert "Log in to hi" in client.get("/login/").content.decode()
    get_user_model().objects.create_user("ann", password="pw-123456789")
    response = client.post("/login/", {"username": "ann", "password": "wrong"})
    assert "Please enter a correct username and password" in response.content.decode()



def test_unknown_pages_get_the_friendly_404(operator_client):
    response = operator_client.get("/integrations/add/nothing/")
    assert response.status_code == 404
    assert "belongs to a workspace you are not looking at" in response.content.decode()
