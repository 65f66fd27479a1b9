"""What the benchmarks share: a fresh, migrated database, and CPU accounting for a shared machine."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def setup_django(tmp: Path) -> None:
    """Point this process (and, through the environment, its subprocesses) at a fresh, migrated database."""
    from cryptography.fernet import Fernet

    os.environ["HI_VAR_DIR"] = str(tmp / "var")
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("HI_SECRET_KEY", uuid.uuid4().hex * 2)
    os.environ.setdefault("HI_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    os.environ.setdefault("HI_LOG_LEVEL", "WARNING")
    # The simulators listen on 127.0.0.1 over http: allow-list loopback, as `make run` does (worker subprocesses inherit it).
    os.environ.setdefault("HI_OUTBOUND_ALLOWED_NETWORKS", "127.0.0.0/8")
    os.environ["DJANGO_SETTINGS_MODULE"] = "hi.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def stop(proc: subprocess.Popen, timeout_s: float) -> None:
    """SIGTERM (a graceful stop: the worker finishes its directive, gunicorn its requests), then SIGKILL if it hangs."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (user, nice, system, irq, softirq); 0 off Linux."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields)
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds of this process and of its children waited for (a worker or gunicorn, once stopped)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system
