"""The code's shape: the import contracts hold and catch a violation; no import hides in a function; no private name crosses a module."""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
SRC = ROOT / "src"
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
#: Parts of hi.integrations that are not its runtime code.
NOT_RUNTIME = {"tests", "testing", "migrations"}
#: Imports inside a function that are lazy for a reason other than a cycle: (module, function) and why.
LAZY_ON_PURPOSE = {
    # AppConfig.ready runs once the app registry is loaded: signal receivers, system checks and the
    # framework's own directive handler are registered there, as Django documents.
    ("hi.integrations.apps", "ready"): "registration once the apps are loaded",
}
#: Late imports in the hubs and services written before the rule reached them (each dodges a cycle): to move, not to copy.
OLDER_LATE_IMPORTS = {("hi.orders.models", "is_terminal"), ("hi.services.ifood.processing", "apply_event")}


def lint_imports(src: Path, *contracts: str) -> subprocess.CompletedProcess:
    """Run import-linter's command on the tree under `src` with the project's contracts."""
    limit = [arg for contract in contracts for arg in ("--contract", contract)]
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", *limit, str(CONFIG)],
        cwd=src, env={**os.environ, "PYTHONPATH": str(src)}, capture_output=True, text=True, timeout=120,
    )


def runtime_files() -> list[Path]:
    """Every runtime module of the framework."""
    package = SRC / "hi" / "integrations"
    return [p for p in sorted(package.rglob("*.py")) if not NOT_RUNTIME & set(p.relative_to(package).parts[:-1])]


def module_name(path: Path) -> str:
    """The dotted name of a source file."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_tree_keeps_every_import_contract():
    """Given the repository as it is, then import-linter finds every contract kept."""
    result = lint_imports(SRC)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the source tree to break on purpose."""
    copy = tmp_path / "src"
    shutil.copytree(SRC / "hi", copy / "hi", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "static", "templates"))
    return copy


def append(tree: Path, module: str, line: str) -> None:
    """Add an import at the end of a module of the copied tree."""
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{line}\n")


@pytest.mark.parametrize(
    ("module", "line", "contract", "message"),
    [
        # A low room reaching up: the redaction module importing the console.
        ("hi.integrations.core.redaction", "from ..console import views", "framework-layers",
         "hi.integrations.core is not allowed to import hi.integrations.console"),
        # A service past the front door.
        ("hi.services.demo.gateway", "from hi.integrations.config import store", "only-the-front-door",
         "hi.services.demo.gateway -> hi.integrations.config.store"),
        # One service using another.
        ("hi.services.webhook.client", "from hi.services.ifood import mapping", "services-independent",
         "hi.services.webhook is not allowed to import hi.services.ifood"),
        # The framework naming a service, and a hub.
        ("hi.integrations.engine.worker", "from hi.services.demo import client", "framework-knows-no-service",
         "hi.integrations is not allowed to import hi.services"),
        ("hi.integrations.console.views", "from hi.orders import models", "framework-knows-no-service",
         "hi.integrations is not allowed to import hi.orders"),
        # The framework going out through its own front door.
        ("hi.integrations.config.store", "from .. import api", "framework-not-through-front-door",
         "hi.integrations.config.store -> hi.integrations.api"),
        ("hi.integrations.console.views", "from hi.messaging import models", "framework-knows-no-service",
         "hi.integrations is not allowed to import hi.messaging"),
        # A hub naming a service.
        ("hi.orders.actions", "from hi.services.ifood import actions", "hubs-know-no-service",
         "hi.orders is not allowed to import hi.services"),
        ("hi.messaging.api", "from hi.services.whatsapp import sending", "hubs-know-no-service",
         "hi.messaging is not allowed to import hi.services"),
        # A hub past the front door.
        ("hi.messaging.views", "from hi.integrations.config import store", "only-the-front-door",
         "hi.messaging.views -> hi.integrations.config.store"),
        # The orders hub reaching up to the messaging hub (messages concern orders, not the other way round).
        ("hi.orders.views", "from hi.messaging import models", "orders-know-no-messaging",
         "hi.orders is not allowed to import hi.messaging"),
        # A service's runtime code on a fake provider (only its simulator/ package may run on one).
        ("hi.services.demo.gateway", "from hi.integrations import simulation", "only-the-front-door",
         "hi.services.demo.gateway -> hi.integrations.simulation"),
        # The fake providers leaning on the framework.
        ("hi.integrations.simulation.server", "from ..core import redaction", "simulation-stands-alone",
         "hi.integrations.simulation is not allowed to import hi.integrations.core"),
        # A room running the quality checklist (which inspects services from outside).
        ("hi.integrations.console.views", "from .. import quality", "quality-stands-outside",
         "hi.integrations.console.views -> hi.integrations.quality"),
        # Runtime code pulling in the test kit (and pytest with it).
        ("hi.integrations.engine.worker", "from ..testing import canary", "runtime-knows-no-test-kit",
         "hi.integrations.engine.worker -> hi.integrations.testing.canary"),
    ],
)
def test_a_deliberate_violation_breaks_its_contract(tree: Path, module: str, line: str, contract: str, message: str):
    """Given a copy of the tree with one forbidden import added, then import-linter fails and names it."""
    assert lint_imports(tree, contract).returncode == 0  # the copy keeps the contract before the change
    append(tree, module, line)
    result = lint_imports(tree, contract)
    assert result.returncode == 1
    assert "BROKEN" in result.stdout and message in result.stdout


def hidden_imports(paths: list[Path], allowed: set[tuple[str, str]]) -> list[str]:
    """The imports inside functions of these modules, but for the allowed (module, function) pairs."""
    hidden = []
    for path in paths:
        name = module_name(path)
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or (name, function.name) in allowed:
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    hidden.append(f"{name}.{function.name} (line {node.lineno})")
    return hidden


def test_no_import_hides_inside_a_function():
    """Every runtime module of the framework imports at its top (a cycle is broken by moving code, not by a late import)."""
    assert hidden_imports(runtime_files(), set(LAZY_ON_PURPOSE)) == []
    assert len(runtime_files()) > 60


def test_no_import_hides_inside_a_function_of_a_hub_or_a_service():
    """The hubs' and services' runtime modules import at their top too; an app's ready() registers, as Django documents."""
    paths = [
        path for path in sorted((SRC / "hi").rglob("*.py"))
        if path.relative_to(SRC / "hi").parts[0] in {"orders", "messaging", "workspaces", "services"}
        and not NOT_RUNTIME & set(path.relative_to(SRC).parts) and path.name != "conftest.py"
    ]
    ready = {(module_name(path), "ready") for path in paths if path.name == "apps.py"}
    assert hidden_imports(paths, ready | OLDER_LATE_IMPORTS) == []
    assert len(paths) > 60


def hi_imports(path: Path) -> tuple[list[tuple[str, str, int]], set[str]]:
    """The names a module imports from hi's own modules ((module, name, line)), and the local names bound to hi's modules."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names: list[tuple[str, str, int]] = []
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            if source == "hi" or source.startswith("hi."):
                for alias in node.names:
                    names.append((source, alias.name, node.lineno))
                    target = SRC / (source + "." + alias.name).replace(".", "/")
                    if target.exists() or target.with_suffix(".py").exists():
                        modules.add(alias.asname or alias.name)
    return names, modules


def test_no_private_name_crosses_a_module():
    """No runtime module of hi imports another's _private name or reaches into an imported module's _private attribute."""
    crossing = []
    for path in sorted((SRC / "hi").rglob("*.py")):
        if {"tests", "testing", "migrations"} & set(path.relative_to(SRC).parts):
            continue
        names, modules = hi_imports(path)
        crossing += [
            f"{module_name(path)}:{line} imports {source}.{name}"
            for source, name, line in names if name.startswith("_") and not name.startswith("__")
        ]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
                if node.attr.startswith("_") and not node.attr.startswith("__"):
                    crossing.append(f"{module_name(path)}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert crossing == []
