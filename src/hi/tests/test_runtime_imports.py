"""Runtime code needs no development dependency: every module of hi but its tests imports without pytest or hypothesis."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2]
#: Test code, which may use pytest and the test kit: skipped by the walk.
NOT_RUNTIME_DIRS = {"tests", "testing", "__pycache__"}
NOT_RUNTIME_FILES = {"conftest.py"}
#: Development dependencies (requirements-dev.txt), which a production install does not have.
DEVELOPMENT_ONLY = {"pytest", "_pytest", "hypothesis", "playwright"}
#: The test kit, which needs them.
TEST_KIT = "hi.integrations.testing"

# The fresh interpreter: set Django up as manage.py does, import each module named on stdin, and say what got loaded.
CHILD = """
import importlib, json, sys
import django
django.setup()
failed = {}
for name in json.load(sys.stdin):
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps({"failed": failed, "loaded": sorted(sys.modules)}))
"""


def runtime_modules() -> list[str]:
    """The dotted name of every runtime module under src/hi: apps, simulators, management commands, migrations."""
    names = []
    for path in sorted((SRC / "hi").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if NOT_RUNTIME_DIRS & set(parts[:-1]) or path.name in NOT_RUNTIME_FILES:
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def development_only(name: str) -> bool:
    """Whether a loaded module is a development dependency or part of the test kit."""
    return name.split(".")[0] in DEVELOPMENT_ONLY or name == TEST_KIT or name.startswith(f"{TEST_KIT}.")


def test_the_walk_reaches_every_kind_of_runtime_module():
    """The list the child imports holds apps, simulators, the fake providers, management commands and migrations, and no test."""
    modules = runtime_modules()
    for expected in (
        "hi.settings", "hi.asgi", "hi.integrations.api", "hi.integrations.engine.worker", "hi.orders.models",
        "hi.services.ifood.gateway", "hi.services.ifood.simulator", "hi.services.ifood.simulator.orders",
        "hi.services.demo.simulator", "hi.integrations.simulation.server", "hi.integrations.management.commands.hi_simulator",
        "hi.workspaces.management.commands.hi_setup", "hi.integrations.migrations.0001_initial",
    ):
        assert expected in modules
    assert not [name for name in modules if ".tests" in name or ".testing" in name or name.endswith("conftest")]


def test_importing_every_runtime_module_loads_no_development_dependency(tmp_path):
    """Given a fresh interpreter with Django set up, importing every runtime module of hi loads no pytest, hypothesis or test kit."""
    env = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "PYTHONPATH": str(SRC),
        "DJANGO_SETTINGS_MODULE": "hi.settings", "HI_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD], input=json.dumps(runtime_modules()), env=env, capture_output=True, text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["failed"] == {}
    loaded = set(report["loaded"])
    assert set(runtime_modules()) <= loaded
    assert sorted(name for name in loaded if development_only(name)) == []
