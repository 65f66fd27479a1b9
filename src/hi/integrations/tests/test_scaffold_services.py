"""Every combination of startintegration's options makes a service that passes `manage.py check`, lint and its tests at once."""
# One copy of the tree gets all 24 services (auth 3 × inbound 2 × orders 2 × poll 2), under distinct names,
# the first through the command itself; then one `manage.py check`, one import-linter run and one pytest run
# cover them all, each in its own process in the copy (so nothing here touches the repository's tree).
from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hi.integrations.scaffold import Options, scaffold
from hi.integrations.scaffold.names import MAX_LABEL, MAX_NAME
from hi.integrations.testing import GatewayContractTests
from hi.integrations.testing.inbound import InboundReceiverContractTests

ROOT = Path(__file__).resolve().parents[4]
PYTHON = sys.executable
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
RUFF = Path(sys.executable).with_name("ruff")
AUTHS = {"api-key": "key", "oauth-client-credentials": "oauth", "none": "open"}
#: The longest label a service may have: every generated line must still fit ruff's line length.
LONGEST_LABEL = ("Wide Label " * 4)[:MAX_LABEL]
COMBINATIONS = [Options(auth, inbound, orders, poll) for auth, inbound, orders, poll in itertools.product(AUTHS, *[(False, True)] * 3)]
#: The framework's own tests that hold every registered service to its rules, run in the copy over the new ones too.
FRAMEWORK_CHECKS = [
    "src/hi/integrations/tests/test_service_layout.py", "src/hi/integrations/tests/test_quality.py",
    "src/hi/tests/test_docs.py", "src/hi/tests/test_runtime_imports.py", "src/hi/tests/test_docstrings.py",
]


def name_of(options: Options) -> str:
    """A distinct service name per combination, as long as a name may be: gen_key_xxx…, gen_oauth_in_or_po_xxx…"""
    flags = "".join(flag for flag, on in (("_in", options.inbound), ("_or", options.orders), ("_po", options.poll)) if on)
    name = f"gen_{AUTHS[options.auth]}{flags}_"
    return name + "x" * (MAX_NAME - len(name))


def expected_tests(options: Options) -> int:
    """How many tests a generated service has: the kit's contract (and inbound) checks, and one example per part."""
    def count(kit: type) -> int:
        """The number of tests a kit class gives."""
        return len([name for name in dir(kit) if name.startswith("test_")])

    inbound = count(InboundReceiverContractTests) + 1 if options.inbound else 0
    return count(GatewayContractTests) + inbound + 1 + options.orders + options.poll


def run(copy: Path, *command: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """A command in the copy, on SQLite, with its own state folder and none of this test run's xdist settings."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("PYTEST_")}
    env |= {"HI_VAR_DIR": str(copy / "var"), "PYTHONPATH": str(copy / "src")}
    return subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """A copy of the tree with the 24 services scaffolded into it, the first by `manage.py startintegration`."""
    copy = tmp_path_factory.mktemp("tree")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    # What the framework's checks of the docs read too: the README, the Makefile, the benchmarks and scripts they cite.
    for folder in ("src", "docs", "templates", "static", "bench", "scripts"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=skip)
    for file in ("manage.py", "pytest.ini", ".importlinter", "ruff.toml", "README.md", "Makefile"):
        shutil.copy(ROOT / file, copy / file)
    first, *others = COMBINATIONS
    result = run(copy, PYTHON, "manage.py", "startintegration", name_of(first), "--label", "Generated & Co", "--auth", first.auth)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Created the Generated & Co service, hi.services.{name_of(first)}" in result.stdout
    for options in others:
        scaffold(copy, name_of(options), LONGEST_LABEL, options=options)
    return copy


def test_the_24_services_are_registered_in_the_enum_and_the_settings(copy: Path):
    # when
    types, settings = (copy / "src/hi/integrations/types.py").read_text(), (copy / "src/hi/settings.py").read_text()
    # then
    for options in COMBINATIONS:
        assert f'"hi.services.{name_of(options)}.gateway.{name_of(options).title().replace("_", "")}Gateway"' in types
        assert f'    "hi.services.{name_of(options)}",\n' in settings


def test_manage_py_check_is_clean(copy: Path):
    # when
    result = run(copy, PYTHON, "manage.py", "check")
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_import_contracts_hold(copy: Path):
    # when
    result = run(copy / "src", str(LINT_IMPORTS), "--no-cache", "--no-logo", str(copy / ".importlinter"))
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Contracts: \d+ kept, 0 broken", result.stdout)


def test_ruff_finds_nothing_in_the_generated_services(copy: Path):
    # when
    services = [f"src/hi/services/{name_of(options)}" for options in COMBINATIONS]
    result = run(copy, str(RUFF), "check", "--no-cache", "--output-format", "concise", *services)
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks passed!" in result.stdout


def test_every_generated_service_passes_its_tests_and_the_framework_s_checks_of_services(copy: Path):
    # when
    services = [f"src/hi/services/{name_of(options)}" for options in COMBINATIONS]
    result = run(copy, PYTHON, "-m", "pytest", "-q", "-n", "2", "-p", "no:randomly", *services, *FRAMEWORK_CHECKS)
    # then every test passed, the services' own as many as their parts give them
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", result.stdout).group(1))
    assert passed > sum(expected_tests(options) for options in COMBINATIONS)
    assert " failed" not in result.stdout and " error" not in result.stdout and "skipped" not in result.stdout
