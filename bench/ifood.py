"""Benchmark: a burst of placed iFood orders turned into stored, acknowledged hi orders by one worker."""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from common import ROOT, busy_cpu_s, own_cpu_s, setup_django, stop

CLIENT_ID = "hi-bench-client"
CLIENT_SECRET = "hi-bench-secret"
MERCHANTS = {
    "6b1f8a3e-2c4d-4e5f-8a9b-0c1d2e3f4b01": "Cantina da Bancada",
    "6b1f8a3e-2c4d-4e5f-8a9b-0c1d2e3f4b02": "Açaí do Benchmark",
}
#: How often the benchmark looks at the orders table and the simulator's queue while the worker runs.
WATCH_S = 0.1


@dataclass
class Result:
    """One run's timings, in seconds from the worker's start."""

    label: str
    n: int
    total: float
    ready: float
    all_plc_stored: float
    first_order: float
    all_orders: float
    all_acked: float
    cpu_busy: float
    cpu_ours: float


def cents(value) -> int:
    """BRL decimal as the simulator wrote it → integer cents, independently of hi's mapping."""
    return int(Decimal(str(value)) * 100)


def add_integration(sim, label: str):
    """A workspace of its own and an active iFood integration (polling) through hi's real set-up path."""
    from hi.integrations.config import setup
    from hi.integrations.models import IntegrationState
    from hi.integrations.types import IntegrationType
    from hi.workspaces.models import Workspace

    workspace = Workspace.objects.create(slug=f"bench-ifood-{time.time_ns()}", name=f"iFood benchmark ({label})")
    raw = {
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "merchant_ids": ",".join(MERCHANTS),
        "api_base_url": sim.url, "event_mode": "polling",
    }
    # add_integration validates, runs the connection test (token + every merchant's status) and activates.
    integration = setup.add_integration(workspace, IntegrationType.IFOOD, "iFood (benchmark)", raw, actor="bench")
    if integration.state != IntegrationState.ACTIVE:
        raise SystemExit(f"the iFood integration is {integration.state}, not active: {integration.reason}")
    return workspace, integration


def start_worker(log: Path, poll_interval_s: float) -> subprocess.Popen:
    """One real `manage.py hi_worker` with its default batch and poll, polling iFood every `poll_interval_s`."""
    env = {**os.environ, "HI_IFOOD_POLL_INTERVAL_S": str(poll_interval_s), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "hi_worker"], env=env, stdout=out, stderr=subprocess.STDOUT)


def since(moment, started_wall: float) -> float:
    """Seconds from the worker's start (wall clock) to a database timestamp written by the worker."""
    return moment.timestamp() - started_wall if moment else float("nan")


def run(sim, n: int, label: str, poll_interval_s: float, timeout_s: float, tmp: Path) -> Result:
    """Place `n` orders at once, start one worker, wait for n orders stored and every event acknowledged, verify."""
    from django.db import connection
    from django.db.models import Count, Max, Min

    from hi.integrations.models import Directive, DirectiveStatus, InboundEvent, Worker
    from hi.orders.models import Order

    workspace, integration = add_integration(sim, label)
    placed = sim.place_orders(n)
    connection.close()  # SQLite: no handle held open while the worker starts
    orders = Order.objects.filter(source=integration)
    log = tmp / f"worker-{label}.log"
    cpu_before = (busy_cpu_s(), own_cpu_s())
    started_wall, started = time.time(), time.perf_counter()
    proc = start_worker(log, poll_interval_s)
    all_orders_at = all_acked_at = None
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"FAILED: the worker exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            now = time.perf_counter() - started
            if all_acked_at is None and not sim.unacked(CLIENT_ID):
                all_acked_at = now
            if all_orders_at is None and orders.count() >= n:
                all_orders_at = now
            if all_orders_at is not None and all_acked_at is not None:
                break
            if now > timeout_s:
                raise SystemExit(
                    f"FAILED: after {timeout_s:.0f} s, {orders.count()} of {n} orders stored and "
                    f"{len(sim.unacked(CLIENT_ID))} events unacknowledged; the worker's log ends:\n{log.read_text()[-3000:]}"
                )
            time.sleep(WATCH_S)
        total = time.perf_counter() - started
    finally:
        stop(proc, 20)
    cpu_busy, cpu_ours = busy_cpu_s() - cpu_before[0], own_cpu_s() - cpu_before[1]

    problems = []
    external = list(orders.values_list("external_id", flat=True))
    if len(external) != n:
        problems.append(f"{len(external)} orders stored, not {n}")
    if len(set(external)) != len(external):
        problems.append(f"{len(external) - len(set(external))} duplicate orders")
    if set(external) != set(placed):
        problems.append(f"{len(set(placed) - set(external))} placed orders missing, {len(set(external) - set(placed))} unknown")
    wrong = [
        (order_id, total_q)
        for order_id, total_q in orders.values_list("external_id", "total_q")
        if order_id in sim.book.orders and total_q != cents(sim.book.get(order_id).details["total"]["orderAmount"])
    ]
    if wrong:
        problems.append(f"{len(wrong)} totals differ from the simulator's orderAmount, e.g. {wrong[:3]}")
    queue = sim._queues[CLIENT_ID]
    if sim.unacked(CLIENT_ID):
        problems.append(f"{len(sim.unacked(CLIENT_ID))} events not acknowledged")
    not_by_hi = {event_id: how for event_id, how in queue.acked.items() if how != "ack"}
    if not_by_hi:
        problems.append(f"{len(not_by_hi)} events acknowledged by iFood's rules, not by hi: {set(not_by_hi.values())}")
    rows = InboundEvent.objects.filter(integration=integration)
    duplicated = rows.values("provider_event_id").annotate(c=Count("id")).filter(c__gt=1).count()
    if duplicated:
        problems.append(f"{duplicated} events stored more than once")
    if rows.count() != len({e["id"] for e in sim.events(CLIENT_ID)}):
        problems.append(f"{rows.count()} inbound rows for {len(sim.events(CLIENT_ID))} distinct events")
    failed = Directive.objects.filter(integration=integration, status=DirectiveStatus.FAILED).count()
    if failed:
        problems.append(f"{failed} directives failed")
    if problems:
        raise SystemExit(
            f"FAILED ({label}, {connection.vendor}): " + "; ".join(problems) + f"; the worker's log ends:\n{log.read_text()[-3000:]}"
        )

    plc = rows.filter(event_type="PLC").aggregate(t=Max("received_at"))["t"]
    first_last = orders.aggregate(first=Min("created_at"), last=Max("created_at"))
    ready = Worker.objects.filter(pid=proc.pid).aggregate(t=Min("started_at"))["t"]
    result = Result(
        label=label, n=n, total=total, ready=since(ready, started_wall), all_plc_stored=since(plc, started_wall),
        first_order=since(first_last["first"], started_wall), all_orders=since(first_last["last"], started_wall),
        all_acked=all_acked_at, cpu_busy=cpu_busy, cpu_ours=cpu_ours,
    )
    print(f"  {label}: {n} orders stored and acknowledged in {total:.1f} s ({n / total:.0f} orders/s)", file=sys.stderr)
    # The next run's worker must not poll this integration (its simulator stops), and PostgreSQL keeps the database.
    integration.delete()
    workspace.delete()
    return result


def main() -> None:
    """Run the clean burst (and, unless told not to, the burst with duplicates and disorder), check, print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000, help="orders placed at once (default 1000)")
    parser.add_argument("--poll-interval", type=float, default=1.0, help="HI_IFOOD_POLL_INTERVAL_S for the worker (default 1 s)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a run is declared failed")
    parser.add_argument("--clean-only", action="store_true", help="skip the run with duplicates and out-of-order events")
    args = parser.parse_args()

    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the finally blocks stop the worker and the simulator.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="hi-bench-ifood-"))
    results = []
    try:
        setup_django(tmp)
        from django.db import connection

        from hi.services.ifood.simulator import IFoodSimulator

        runs = [("clean", False)] + ([] if args.clean_only else [("duplicates+disorder", True)])
        for label, faulty in runs:
            sim = IFoodSimulator(credentials={CLIENT_ID: CLIENT_SECRET}, merchants=MERCHANTS, seed=5).start()
            sim.max_recorded = 1000
            sim.duplicates = sim.out_of_order = faulty
            try:
                results.append(run(sim, args.n, label, args.poll_interval, args.timeout, tmp))
            finally:
                sim.stop()
        vendor = connection.vendor
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    cpu = platform.processor() or platform.machine()
    print(f"machine: {platform.node()} · {cpu} · {os.cpu_count()} cores · Python {platform.python_version()}")
    print(f"{args.n} orders placed at once in the iFood simulator (127.0.0.1), one hi_worker on {vendor},"
          f" HI_IFOOD_POLL_INTERVAL_S={args.poll_interval:g}")
    print("seconds from the worker's start:")
    print(f"{'run':<22} {'ready':>6} {'PLC stored':>10} {'1st order':>9} {'all orders':>10} {'all acked':>9} {'total':>6} {'orders/s':>8}")
    for r in results:
        print(f"{r.label:<22} {r.ready:>6.1f} {r.all_plc_stored:>10.1f} {r.first_order:>9.1f} {r.all_orders:>10.1f}"
              f" {r.all_acked:>9.1f} {r.total:>6.1f} {r.n / r.total:>8.0f}")
    # Anything else running on the machine skews the figures: say how much there was.
    for r in results:
        print(f"CPU during {r.label}: {r.cpu_busy:.1f} s busy on the machine, {r.cpu_ours:.1f} s of it the worker and this"
              f" process (simulator, watcher) ({max(r.cpu_busy - r.cpu_ours, 0):.1f} s other processes and the kernel)")
    print("verified: exactly n orders, no duplicates, totals equal orderAmount in cents, every event acknowledged by hi")


if __name__ == "__main__":
    main()
