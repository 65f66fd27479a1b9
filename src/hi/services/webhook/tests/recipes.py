"""The receiving recipes of docs/services/webhook.md: where they are, the Python one as a module, and each run as a process."""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings

RECIPES = Path(settings.BASE_DIR) / "docs" / "services" / "webhook-recipes"
PYTHON_RECEIVER = RECIPES / "python" / "receiver.py"
NODE_DIR = RECIPES / "node"
NODE_RECEIVER = NODE_DIR / "receiver.js"
N8N_CODE_NODE = RECIPES / "n8n" / "verify-signature.js"
N8N_SHIM = Path(__file__).with_name("n8n_shim.js")
#: How long a receiver may take to start, and to print an event hi delivered.
START_S, EVENT_S = 30.0, 15.0


@functools.cache
def python_recipe() -> ModuleType:
    """docs/…/python/receiver.py as a module: the tests' receivers verify with its `verify`."""
    spec = importlib.util.spec_from_file_location("hi_webhook_python_recipe", PYTHON_RECEIVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def require_node() -> str:
    """The `node` executable (20 or newer); skipped without it, except in CI where a missing node is a failure."""
    found = shutil.which("node")
    if found and shutil.which("npm"):
        return found
    message = "node and npm are not installed (Debian: apt-get install nodejs npm); the Node recipes cannot be run."
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def node_modules() -> Path:
    """The Node recipe's dependencies, installed once per package-lock.json with `npm ci` into hi's var directory."""
    lock = (NODE_DIR / "package-lock.json").read_bytes()
    home = Path(settings.VAR_DIR) / "recipes-node"
    final = home / hashlib.sha256(lock).hexdigest()[:16]
    if (final / "node_modules" / "standardwebhooks").is_dir():
        return final / "node_modules"
    home.mkdir(parents=True, exist_ok=True)
    # Installed beside and renamed into place: another test process may be installing the same lock.
    work = Path(tempfile.mkdtemp(dir=home, prefix="installing-"))
    for name in ("package.json", "package-lock.json"):
        shutil.copy(NODE_DIR / name, work / name)
    done = subprocess.run(
        ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=work, capture_output=True, text=True, timeout=300,
    )
    if done.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        pytest.fail(f"npm ci of the Node recipe failed: {done.stderr.strip()[-2000:]}", pytrace=False)
    try:
        work.rename(final)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)  # the other process won: its copy is the same
    return final / "node_modules"


class Receiver:
    """A recipe's receiver running as its own process: the URL it listens on, and the events it printed."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        """Run `command` with `env` on a free port, its output read line by line."""
        self.process = subprocess.Popen(
            # stderr joins stdout: a receiver's crash shows up where the test looks for its events.
            command, env={**os.environ, "PORT": "0", **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        first = self._next(START_S)
        if not first.startswith("listening on "):
            self.stop()
            raise AssertionError(f"the receiver did not start: {first!r}")
        self.url = first.removeprefix("listening on ").strip()

    def _read(self) -> None:
        """Queue the receiver's output lines."""
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def _next(self, timeout_s: float) -> str:
        """The next output line, or "" after `timeout_s`."""
        try:
            return self.lines.get(timeout=timeout_s)
        except queue.Empty:
            return ""

    def event(self) -> str:
        """The next line the receiver printed (an event), or "" when none came in time."""
        return self._next(EVENT_S)

    def stop(self) -> None:
        """End the process (ours: started by this object)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def python_receiver(secret: str) -> Receiver:
    """The Python recipe, run as a reader would run it."""
    return Receiver([sys.executable, str(PYTHON_RECEIVER)], {"HI_WEBHOOK_SECRET": secret})


def node_receiver(secret: str) -> Receiver:
    """The Node recipe with its pinned dependencies."""
    node = require_node()
    return Receiver([node, str(NODE_RECEIVER)], {"HI_WEBHOOK_SECRET": secret, "NODE_PATH": str(node_modules())})


def n8n_workflow(secret: str, header: tuple[str, str]) -> Receiver:
    """The n8n recipe's Code node, run by a stand-in for its workflow (Header Auth with `header`)."""
    node = require_node()
    env = {"HI_WEBHOOK_SECRET": secret, "HEADER_NAME": header[0], "HEADER_VALUE": header[1]}
    return Receiver([node, str(N8N_SHIM), str(N8N_CODE_NODE)], env)
