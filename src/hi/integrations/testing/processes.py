"""Real `manage.py hi_worker` processes against the test database, for tests that kill or race workers."""
from __future__ import annotations

import os
from contextlib import contextmanager
import subprocess
import sys
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


def start_worker(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`manage.py hi_worker` on the test database with a fast heartbeat; `env` adds settings a subprocess reads."""
    full_env = {
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
