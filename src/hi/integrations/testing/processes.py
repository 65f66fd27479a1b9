"""Real `manage.py hi_worker` and gunicorn processes against the test database, for tests that need real servers."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[4]


def database_url() -> str:
    """A URL for the test database this process uses, for worker subprocesses."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def subprocess_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a hi subprocess on the test database, with this process's keys; `env` adds settings."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "HI_SECRET_KEY": settings.SECRET_KEY,
        "HI_ENCRYPTION_KEYS": ",".join(settings.HI_ENCRYPTION_KEYS),
        "HI_WORKER_HEARTBEAT_S": "0.5",
        "HI_WORKER_STALE_S": "2",
        # The guard's allow-list as this test has it (loopback, for the simulators the worker calls).
        "HI_OUTBOUND_ALLOWED_NETWORKS": ",".join(getattr(settings, "HI_OUTBOUND_ALLOWED_NETWORKS", [])),
        "PYTHONUNBUFFERED": "1",  # tests read the worker's output line by line
        **(env or {}),
    }


def start_worker(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`manage.py hi_worker` on the test database with a fast heartbeat; `env` adds settings a subprocess reads."""
    full_env = subprocess_env(env)
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "hi_worker", "--poll", "0.05", *args],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@contextmanager
def worker_pool(env: dict[str, str] | None = None) -> Iterator[Callable[..., subprocess.Popen]]:
    """Yield start(*args), which starts a worker with `env`; every worker still running at the end is killed."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        """Start a worker with the fixture's environment, stopped when the test ends."""
        worker = start_worker(*args, env=env)
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            if worker.poll() is None:
                worker.kill()
            worker.communicate(timeout=10)


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(*args: str, env: dict[str, str] | None = None, timeout_s: float = 30) -> Iterator[str]:
    """Run hi under gunicorn (`--chdir src hi.wsgi`, as production does) on the test database; yield its base URL."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"), "--chdir", str(ROOT / "src"), "--bind", f"127.0.0.1:{port}", *args,
        "hi.wsgi:application"
    ]
    server = subprocess.Popen(command, env=subprocess_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + timeout_s
        while not _listening(port):
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"gunicorn did not start:\n{server.communicate(timeout=10)[0][-3000:]}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        server.communicate(timeout=10)


def _listening(port: int) -> bool:
    """Whether something accepts connections on the port."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
