"""Benchmark: directives per second for one worker posting JSON, beside a bare requests loop."""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def setup_django(database_url: str | None) -> None:
    """Point Django at the benchmark's database (a fresh SQLite file unless DATABASE_URL is set)."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='hi-bench-')}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hi.settings")
    os.environ.setdefault("HI_LOG_LEVEL", "WARNING")
    # The simulators listen on 127.0.0.1 over http: allow-list loopback, as `make run` does (worker subprocesses inherit it).
    os.environ.setdefault("HI_OUTBOUND_ALLOWED_NETWORKS", "127.0.0.0/8")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bare_loop(url: str, bodies: list[dict], key: str) -> float:
    """Seconds for one requests.Session to POST every body (the floor hi is compared with)."""
    import requests

    session = requests.Session()
    started = time.perf_counter()
    for i, body in enumerate(bodies):
        response = session.post(
            f"{url}/api/v1/notes", json=body, headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"bare-{i}"}, timeout=10
        )
        response.raise_for_status()
    return time.perf_counter() - started


def hi_workers(count: int, n: int, sim, workers: int) -> float:
    """Seconds for `workers` hi_worker processes to drain `n` note directives."""
    from django.conf import settings
    from django.db import connection

    from hi.integrations.api import add_integration, enqueue
    from hi.integrations.models import Directive, DirectiveAttempt, DirectiveStatus
    from hi.integrations.types import IntegrationType
    from hi.services.demo.handlers import TOPIC_NOTE
    from hi.workspaces.models import Workspace

    workspace = Workspace.objects.create(slug=f"bench-{count}-{time.time_ns()}", name="Benchmark")
    integration = add_integration(
        workspace, IntegrationType.DEMO, "Bench", {"api_url": sim.url, "api_key": "demo-key", "sync_on_activate": "false"}, actor="bench"
    )
    from django.db import transaction

    with transaction.atomic():
        for i in range(n):
            enqueue(integration, TOPIC_NOTE, {"text": f"note {i}", "order": i})
    db = connection.settings_dict
    url = os.environ["DATABASE_URL"]
    env = {
        **os.environ, "DATABASE_URL": url, "HI_SECRET_KEY": settings.SECRET_KEY, "HI_ENCRYPTION_KEYS": ",".join(settings.HI_ENCRYPTION_KEYS)
    }
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "hi_worker", "--drain", "--batch", "20", "--poll", "0.01"], env=env,
            stdout=subprocess.DEVNULL
        )
        for _ in range(workers)
    ]
    for proc in procs:
        proc.wait()
    wall = time.perf_counter() - started
    done = Directive.objects.filter(integration=integration, status=DirectiveStatus.DONE).count()
    if done != n:
        raise SystemExit(f"only {done} of {n} directives done ({db['ENGINE']})")
    # Throughput while working: first attempt's start to the last directive's end (process start-up
    # and Django's import time are not directive work; `wall` keeps them for the record).
    from django.db.models import Max, Min

    first = DirectiveAttempt.objects.filter(directive__integration=integration).aggregate(t=Min("started_at"))["t"]
    last = Directive.objects.filter(integration=integration).aggregate(t=Max("finished_at"))["t"]
    elapsed = (last - first).total_seconds()
    print(f"  {workers} worker(s): {n} directives in {elapsed:.2f} s of work, {wall:.2f} s wall with process start", file=sys.stderr)
    integration.delete()
    workspace.delete()
    return elapsed


def main() -> None:
    """Run the comparison and print a small table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=2000, help="directives (and bare posts) per run")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL")
    setup_django(database_url)
    from django.db import connection

    from hi.services.demo.simulator import DemoSimulator

    sim = DemoSimulator().start()
    try:
        bodies = [{"text": f"note {i}"} for i in range(args.n)]
        bare_loop(sim.url, bodies[:100], "demo-key")  # warm up
        bare = bare_loop(sim.url, bodies, "demo-key")
        rows = [("bare requests.Session loop", args.n / bare, 1.0)]
        configs = [(1,)] if connection.vendor == "sqlite" else [(1,), (2,)]
        for (workers,) in configs:
            elapsed = hi_workers(len(rows), args.n, sim, workers)
            rate = args.n / elapsed
            rows.append((f"hi, {workers} worker{'s' if workers > 1 else ''} on {connection.vendor} ", rate, rate / rows[0][1]))
    finally:
        sim.stop()
    cpu = platform.processor() or platform.machine()
    print(f"machine: {platform.node()} · {cpu} · {os.cpu_count()} cores · Python {platform.python_version()}")
    print(f"{args.n} JSON POSTs to a local HTTP sink (the demo simulator on 127.0.0.1)")
    print(f"{'run':<62} {'per second':>10} {'ratio':>6}")
    for name, rate, ratio in rows:
        print(f"{name:<62} {rate:>10.0f} {ratio:>6.2f}")


if __name__ == "__main__":
    main()
