"""Benchmark: verified-and-stored inbound webhooks per second under the production web command, beside a bare Django view."""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from common import ROOT, busy_cpu_s, own_cpu_s, setup_django, stop

from hi import webcommand

BENCH = Path(__file__).resolve().parent

#: Requests per side before the measured rounds.
WARM_UP = 200
#: A typical automation-tool event: about 600 bytes of JSON.
BODY_DATA = {
    "order": {"id": "ord_0001", "status": "confirmed", "total": "57.90", "currency": "BRL"},
    "customer": {"name": "Ana Souza", "phone": "+55 11 91234-5678"},
    "items": [{"sku": f"SKU-{i:03d}", "name": f"Item {i}", "qty": i % 3 + 1, "price": "12.90"} for i in range(4)],
}


@dataclass
class Side:
    """One endpoint under test and what was measured on it."""

    name: str
    url: str
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    sent: int = 0
    statuses: Counter = field(default_factory=Counter)
    rounds: list[tuple[float, float, float]] = field(default_factory=list)
    stored: int = 0


def create_integrations(secret: str):
    """The hi side's active webhook integration, and the bare side's row owner in its own workspace."""
    from hi.integrations.api import save_attributes
    from hi.integrations.models import Integration, IntegrationState
    from hi.workspaces.models import Workspace

    stamp = time.time_ns()
    hi_workspace = Workspace.objects.create(slug=f"bench-inbound-{stamp}", name="Inbound benchmark")
    url = "https://example.com/hook"
    integration = Integration.objects.create(
        workspace=hi_workspace, integration_type="webhook", name="Bench receiver", unique_id=url, state=IntegrationState.ACTIVE
    )
    save_attributes(integration, {"url": url, "secret": secret}, actor="bench")
    # A workspace of its own, disabled: hi's event dispatch (which walks the workspace's
    # integrations) must not see the bare side's owner, and the bare side never reads it.
    bare_workspace = Workspace.objects.create(slug=f"bench-bare-{stamp}", name="Inbound benchmark (bare)")
    bare = Integration.objects.create(
        workspace=bare_workspace, integration_type="webhook", name="Bare receiver", unique_id=f"{url}/bare", state=IntegrationState.DISABLED
    )
    return integration, bare, [hi_workspace, bare_workspace]


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int, threads: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start the production web command (`hi.webcommand`), with the bench URL conf on the path."""
    command = webcommand.command(
        bind=f"127.0.0.1:{port}", workers=workers, root=ROOT, gunicorn=str(Path(sys.executable).parent / "gunicorn")
    )
    command[1:1] = ["--pythonpath", str(BENCH)]
    with log.open("wb") as out:
        return subprocess.Popen(command, env={**env, "HI_WEB_THREADS": str(threads)}, stdout=out, stderr=subprocess.STDOUT)


def wait_ready(proc: subprocess.Popen, base: str, log: Path, timeout_s: float = 30) -> None:
    """Poll /healthz until Django answers (503 too: no hi worker runs here); fail with gunicorn's log otherwise."""
    import requests

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code in (200, 503):
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer /healthz within {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")


def signed_requests(n: int, secret: str) -> list[tuple[bytes, dict[str, str]]]:
    """`n` bodies with their Standard Webhooks headers, each with a unique webhook-id."""
    from hi.integrations.api import standard_webhooks

    now = int(time.time())
    prepared = []
    for _ in range(n):
        msg_id = standard_webhooks.new_message_id()
        body = json.dumps({"type": "order.created", "timestamp": now, "id": msg_id, "data": BODY_DATA}).encode()
        headers = standard_webhooks.headers(msg_id, now, body, [secret])
        headers["Content-Type"] = "application/json"
        prepared.append((body, headers))
    return prepared


def send_all(url: str, prepared: list[tuple[bytes, dict[str, str]]], senders: int) -> tuple[float, list[float], Counter]:
    """POST every prepared request from `senders` threads at once; return (seconds, latencies, statuses)."""
    import requests

    lock = threading.Lock()
    position = iter(prepared)
    latencies: list[float] = []
    statuses: Counter = Counter()
    start = threading.Barrier(senders + 1)

    def sender() -> None:
        """Post the next prepared request until none is left, recording latencies and statuses."""
        session = requests.Session()
        mine, seen = [], Counter()
        start.wait()
        while True:
            with lock:
                item = next(position, None)
            if item is None:
                break
            body, headers = item
            began = time.perf_counter()
            try:
                status = session.post(url, data=body, headers=headers, timeout=30).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            mine.append(time.perf_counter() - began)
            seen[status] += 1
        with lock:
            latencies.extend(mine)
            statuses.update(seen)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies, statuses


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def run(side: Side, n: int, senders: int, secret: str, record: bool = True) -> None:
    """One batch of `n` requests against one side (signing happens before the clock starts)."""
    prepared = signed_requests(n, secret)
    elapsed, latencies, statuses = send_all(side.url, prepared, senders)
    side.statuses.update(statuses)
    side.sent += n
    if record:
        side.elapsed += elapsed
        side.latencies.extend(latencies)
        side.rounds.append((n / elapsed, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000))


def check_rows(sides: dict[str, Side], owners: dict) -> list[str]:
    """Every answer was 202 and every request left exactly one accepted (or processed) row."""
    from hi.integrations.models import InboundEvent

    problems = []
    for key, side in sides.items():
        rows = InboundEvent.objects.filter(integration=owners[key])
        # hi stores rows accepted (the worker's pass, run after this check, processes them); bare, processed.
        status = InboundEvent.Status.ACCEPTED if key == "hi" else InboundEvent.Status.PROCESSED
        kept = rows.filter(status=status).count()
        side.stored = kept
        if set(side.statuses) != {202}:
            problems.append(f"{side.name}: answers {dict(side.statuses)}")
        if kept != side.sent or rows.count() != side.sent:
            problems.append(f"{side.name}: {side.sent} sent, {kept} {status} rows, {rows.count()} rows")
    return problems


def print_report(sides: dict[str, Side], args: argparse.Namespace, vendor: str) -> None:
    """The machine, the layout, one line per round, then each side over all rounds with the ratio."""
    layout = f"asgi, {args.workers} worker{'s' if args.workers > 1 else ''} × {args.threads} Django threads"
    print(f"machine: {platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores · "
          f"Python {platform.python_version()} · the senders share these cores")
    print(f"gunicorn {layout} on 127.0.0.1 · {vendor} · {args.senders} sender threads · "
          f"{args.rounds} rounds × {args.n} requests per side (+{WARM_UP} warm-up)")
    print(f"{'run':<44} {'round':>5} {'per second':>10} {'p50 ms':>7} {'p99 ms':>7}")
    for side in sides.values():
        for number, (rate, p50, p99) in enumerate(side.rounds, 1):
            print(f"{side.name:<44} {number:>5} {rate:>10.0f} {p50:>7.1f} {p99:>7.1f}")
    print(f"{'all rounds':<44} {'':>5} {'per second':>10} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6}")
    floor = None
    for side in sides.values():
        rate = len(side.latencies) / side.elapsed
        floor = floor or rate
        p50, p99 = percentile(side.latencies, 50) * 1000, percentile(side.latencies, 99) * 1000
        print(f"{side.name:<44} {'':>5} {rate:>10.0f} {p50:>7.1f} {p99:>7.1f} {rate / floor:>6.2f}")
    print("rows stored (accepted or processed / sent): " + ", ".join(f"{key} {side.stored}/{side.sent}" for key, side in sides.items()))


def main() -> None:
    """Start gunicorn, send to the bare view and to hi in alternate rounds, check the rows, print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000, help="requests per side per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (each: bare, then hi)")
    parser.add_argument("--senders", type=int, default=8, help="concurrent sender threads")
    # The production command (hi.webcommand): gunicorn's asgi worker, Django in HI_WEB_THREADS threads.
    parser.add_argument("--workers", type=int, default=webcommand.DEFAULT_WORKERS, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="Django threads per worker (HI_WEB_THREADS)")
    parser.add_argument("--sides", default="bare,hi", help="which sides to measure (comma-separated: bare, hi)")
    args = parser.parse_args()
    names = [name.strip() for name in args.sides.split(",") if name.strip()]
    if not names or set(names) - {"bare", "hi"}:
        parser.error(f"--sides takes bare, hi or both, not {args.sides!r}")

    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the finally block stops gunicorn.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="hi-bench-inbound-"))
    proc = None
    workspaces = []
    try:
        setup_django(tmp)
        from django.db import connection

        from hi.integrations.api import receive_path, standard_webhooks
        from hi.integrations.models import Event

        secret = standard_webhooks.generate_secret()
        integration, bare, workspaces = create_integrations(secret)
        hook_path = receive_path(integration)
        connection.close()  # SQLite: no open handle in this process while gunicorn writes
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bare_settings",
            "HI_BENCH_SECRET": secret,
            "HI_BENCH_BARE_WORKSPACE": str(bare.workspace_id),
            "HI_BENCH_BARE_INTEGRATION": str(bare.pk),
        }
        log = tmp / "gunicorn.log"
        cpu_before = (busy_cpu_s(), own_cpu_s())
        proc = start_gunicorn(port, args.workers, args.threads, env, log)
        wait_ready(proc, base, log)

        every = {
            "bare": Side("bare Django view (verify + insert)", f"{base}/bench/bare-hook/"),
            "hi": Side(f"hi POST /hooks/<key>/ ({integration.integration_type})", f"{base}{hook_path}"),
        }
        sides = {name: every[name] for name in names}
        for side in sides.values():
            run(side, 1, 1, secret, record=False)
            if side.statuses != Counter({202: 1}):
                raise SystemExit(f"{side.name} answered {dict(side.statuses)} to a signed request, not 202 (see {log})")
        for side in sides.values():  # warm up: imports, URL resolver, connections, caches in every worker
            run(side, WARM_UP, args.senders, secret, record=False)
        for _ in range(args.rounds):  # alternate, so that a slow spell of the machine hits both sides
            for side in sides.values():
                run(side, args.n, args.senders, secret)
        stop(proc, 15)
        busy, ours = busy_cpu_s() - cpu_before[0], own_cpu_s() - cpu_before[1]

        problems = check_rows(sides, {"bare": bare, "hi": integration})
        print_report(sides, args, connection.vendor)
        if "hi" in sides:
            # The worker's share, after the fact: what the web side stored, published as events.
            from hi.integrations.engine.inbound import process_pending

            started, processed = time.perf_counter(), 0
            while batch := process_pending(limit=500):
                processed += batch
            elapsed = time.perf_counter() - started
            events = Event.objects.filter(workspace_id=integration.workspace_id, type="webhook.received").count()
            print(f"then one worker's pass published {events} webhook.received events: {processed} in {elapsed:.1f} s"
                  f" ({processed / elapsed if elapsed else 0:.0f}/s)")
        # Anything else running on the machine skews the figures: say how much there was.
        print(f"CPU while gunicorn ran: {busy:.1f} s busy on the machine, {ours:.1f} s of it this benchmark and gunicorn"
              f" ({max(busy - ours, 0):.1f} s other processes and the kernel)")
        if problems:
            raise SystemExit("FAILED: " + "; ".join(problems))
    finally:
        if proc is not None:
            stop(proc, 15)
        if workspaces and os.environ["DATABASE_URL"].startswith("postgres"):
            for workspace in workspaces:
                workspace.delete()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
