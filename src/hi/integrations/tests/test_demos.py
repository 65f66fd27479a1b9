"""`make run`'s demo as each service declares it (DemoSeed in its demo.py): found by the registry, planned by `manage.py hi_demo`."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hi.integrations.contract.demos import DemoSeed, demo_seed, demo_seeds
from hi.integrations.core.errors import DemoUnavailable
from hi.integrations.types import IntegrationType

#: Stand-ins for scripts/run.sh's three functions: each prints its arguments one per line, so the test sees
#: exactly the words the shell passes on.
SHELL_FUNCTIONS = """
demo_setting() { printf 'setting'; printf '\\t%s' "$@"; printf '\\n'; }
demo_simulator() { printf 'simulator'; printf '\\t%s' "$@"; printf '\\n'; }
demo_says() { printf 'says'; printf '\\t%s' "$@"; printf '\\n'; }
"""


def plan(*args: str) -> str:
    """What `manage.py hi_demo` prints."""
    out = io.StringIO()
    call_command("hi_demo", *args, stdout=out)
    return out.getvalue()


def test_the_registry_finds_every_service_s_demo_in_its_order():
    """Given the installed services, then the demo provider, iFood and WhatsApp offer a demo, in IntegrationType's order; webhooks none."""
    found = [(member, seed.adds_integration) for member, seed in demo_seeds()]
    assert found == [(IntegrationType.DEMO, False), (IntegrationType.IFOOD, True), (IntegrationType.WHATSAPP, True)]
    assert demo_seed(IntegrationType.WEBHOOK) is None
    assert all(isinstance(seed, DemoSeed) and seed.port_variable.startswith("HI_") for _, seed in demo_seeds())


def test_a_simulator_s_port_follows_its_variable_and_anything_but_a_port_is_refused(monkeypatch):
    # given the iFood demo's simulator moved to another port
    seed = demo_seed(IntegrationType.IFOOD)
    monkeypatch.setenv("HI_IFOOD_DEMO_PORT", "9123")
    # then the set-up looks for it there
    assert seed.url() == "http://127.0.0.1:9123"
    # and a value that is no port is a clear error, not a crash
    for wrong in ("abc", "0", "70000", "-1"):
        monkeypatch.setenv("HI_IFOOD_DEMO_PORT", wrong)
        with pytest.raises(DemoUnavailable, match="HI_IFOOD_DEMO_PORT"):
            seed.url()
    monkeypatch.delenv("HI_IFOOD_DEMO_PORT")
    assert seed.url() == "http://127.0.0.1:8002"


def test_hi_demo_shell_is_a_plan_the_shell_runs_word_for_word(monkeypatch):
    # given make run's knobs set by the operator
    monkeypatch.setenv("HI_IFOOD_DEMO_PORT", "9123")
    monkeypatch.setenv("HI_IFOOD_DEMO_EVERY_S", "7")
    # when bash evaluates `hi_demo --shell` as scripts/run.sh does
    script = SHELL_FUNCTIONS + 'eval "$PLAN"'
    shell = subprocess.run(
        ["bash", "-c", script], env={"PATH": os.environ["PATH"], "PLAN": plan("--shell")}, capture_output=True, text=True, timeout=30,
        check=True
    )
    lines = [line.split("\t") for line in shell.stdout.splitlines()]
    # then every simulator starts in the registry's order, on its port, with its options as single words
    simulators = [line[1:] for line in lines if line[0] == "simulator"]
    assert [s[:4] for s in simulators] == [
        ["demo", "8001", "Demo provider", "HI_DEMO_PORT"], ["ifood", "9123", "iFood", "HI_IFOOD_DEMO_PORT"],
        ["whatsapp", "8003", "WhatsApp", "HI_WHATSAPP_DEMO_PORT"],
    ]
    ifood = simulators[1][4:]
    assert ifood[:2] == ["--place-every", "7"] and ifood[2:4] == ["--customer-phone", "+55 11 98765-4321"]
    # and iFood's faster polling is a default for the console and the worker
    assert ["setting", "HI_IFOOD_POLL_INTERVAL_S", "5"] in lines
    # and what make run says comes after everything it starts, quotes and all
    says = [line[1] for line in lines if line[0] == "says"]
    assert says == ["iFood demo: a new order every 7 s under Orders",
                    "WhatsApp demo: each new order's customer gets a confirmation; their answers arrive under Messages"]
    assert [line[0] for line in lines][-2:] == ["says", "says"]


def test_hi_demo_reads_for_an_operator_and_refuses_a_port_that_is_no_port(monkeypatch):
    # when an operator asks what the demo starts
    text = plan()
    # then each simulator's command and the integration it gets are said
    assert "manage.py hi_simulator whatsapp --port 8003" in text and "hi_setup --demo adds “WhatsApp (demo)”" in text
    assert "HI_IFOOD_POLL_INTERVAL_S=5 unless set" in text
    # and a bad port is a command error naming the variable
    monkeypatch.setenv("HI_WHATSAPP_DEMO_PORT", "eighty")
    with pytest.raises(CommandError, match="HI_WHATSAPP_DEMO_PORT='eighty' is not a port"):
        plan("--shell")


def test_a_real_installation_loads_no_simulator():
    """In a fresh interpreter, hi's gateways, hi_setup and hi_demo import no service's simulator or demo: only the demo does."""
    code = (
        "import sys, django; django.setup()\n"
        "from hi.integrations.factory import get_integration_gateway\n"
        "from hi.integrations.types import IntegrationType\n"
        "import hi.workspaces.management.commands.hi_setup, hi.integrations.management.commands.hi_demo\n"
        "[get_integration_gateway(member) for member in IntegrationType]\n"
        "print(sorted(m for m in sys.modules if m.startswith('hi.services.') and m.split('.')[3:4] in (['simulator'], ['demo'])))\n"
    )
    src = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(src), "DJANGO_SETTINGS_MODULE": "hi.settings"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
