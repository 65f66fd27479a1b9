"""Benchmark: WhatsApp messages sent per second by one worker, and their status notifications verified, stored and processed."""
# Meta asks receivers to keep up with three times the outbound rate: each message brings up to three status
# notifications (sent, delivered, read). One run measures, against the WhatsApp simulator on 127.0.0.1:
# 1. sent: N template messages to N customers queued, then `hi_worker --drain` sends them (first attempt's start
#    to the last directive's end, read from the database);
# 2. received: the simulator, which held the statuses back meanwhile, posts them (signed, Meta-escaped, one status
#    per POST, several posts at once as Meta does under load) to hi under the production web command
#    (gunicorn, `hi.webcommand`), which verifies and stores each; from the first post to the last answer;
# 3. processed: one worker's passes turn the stored notifications into status items and apply them (each moves its
#    message forward and publishes message.status_changed).
# Target: notifications processed per second ≥ 3 × messages sent per second.
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
from pathlib import Path

from common import ROOT, setup_django, stop

#: Posting threads of the simulator (Meta posts notifications concurrently).
POSTERS = 8


def send_phase(sim, n: int):
    """Queue n templates to n customers, drain them with one worker; (integration, seconds of work, wall seconds)."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.db.models import Max, Min

    from hi.integrations.api import Directive, DirectiveStatus, IntegrationType, add_integration
    from hi.integrations.testing import DirectiveAttempt
    from hi.messaging import api
    from hi.messaging.channels import TemplateSend
    from hi.services.whatsapp.simulator import DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET
    from hi.workspaces.models import Workspace

    workspace = Workspace.objects.create(slug=f"bench-whatsapp-{time.time_ns()}", name="WhatsApp benchmark")
    raw = {"phone_number_id": sim.phone_number_id, "business_account_id": sim.business_account_id, "access_token": DEFAULT_ACCESS_TOKEN,
           "app_secret": DEFAULT_APP_SECRET, "verify_token": "bench-verify-token", "api_base_url": sim.url}
    integration = add_integration(workspace, IntegrationType.WHATSAPP, "Bench", raw, actor="bench")
    template = TemplateSend("order_ready", "pt_BR", ("Ana", "4821", "R$ 58,90", "Cantina da Nonna"))
    with transaction.atomic():
        for i in range(n):
            api.queue_outbound(integration, f"+55119{i:08d}", template=template, actor="bench")
    connection.close()
    env = {**os.environ, "HI_SECRET_KEY": settings.SECRET_KEY, "HI_ENCRYPTION_KEYS": ",".join(settings.HI_ENCRYPTION_KEYS)}
    started = time.perf_counter()
    worker = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "hi_worker", "--drain", "--batch", "20", "--poll", "0.01"],
                              env=env, stdout=subprocess.DEVNULL)
    worker.wait()
    wall = time.perf_counter() - started
    sends = Directive.objects.filter(integration=integration)
    if sends.filter(status=DirectiveStatus.DONE).count() != n:
        raise SystemExit(f"only {sends.filter(status=DirectiveStatus.DONE).count()} of {n} sends done")
    first = DirectiveAttempt.objects.filter(directive__integration=integration).aggregate(t=Min("started_at"))["t"]
    last = sends.aggregate(t=Max("finished_at"))["t"]
    return integration, (last - first).total_seconds(), wall


def receive_phase(sim, integration, log: Path) -> tuple[int, float]:
    """Let the simulator post the held statuses to gunicorn; (notifications answered 200, seconds)."""
    import requests

    from hi import webcommand
    from hi.integrations.api import receive_path

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = webcommand.command(bind=f"127.0.0.1:{port}", root=ROOT, gunicorn=str(Path(sys.executable).parent / "gunicorn"))
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code in (200, 503):
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        held = sim.notifier.pending()
        sim.set_knobs({"callback_url": base + receive_path(integration), "notification_workers": POSTERS, "notifications_paused": False})
        started = time.perf_counter()
        sim.drain(600)
        elapsed = time.perf_counter() - started
    finally:
        stop(proc, 15)
    answered = sum(1 for record in sim.notifications if record["status"] == 200)
    if answered != held:
        raise SystemExit(f"{held} notifications held, {answered} answered 200 (see {log})")
    return answered, elapsed


def process_phase(integration) -> tuple[int, float]:
    """One worker's passes over what gunicorn stored; (status items applied, seconds)."""
    from hi.integrations.api import InboundEvent
    from hi.integrations.testing import process_pending

    started = time.perf_counter()
    while process_pending(limit=500):
        pass
    elapsed = time.perf_counter() - started
    items = InboundEvent.objects.filter(integration=integration, event_type="status", status=InboundEvent.Status.PROCESSED).count()
    return items, elapsed


def _free_port() -> int:
    """A port nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    """Send, receive, process; print the three rates and the ratio to the target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=300, help="messages to send (each brings three status notifications)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="hi-bench-whatsapp-"))
    sim = None
    try:
        setup_django(tmp)
        from django.db import connection

        from hi.messaging.models import Message
        from hi.services.whatsapp.simulator import WhatsAppSimulator

        sim = WhatsAppSimulator(seed=1).start()
        # Statuses are held until hi's web command runs; one status per POST, as Meta mostly sends them.
        sim.set_knobs({"notifications_paused": True, "status_delay_s": 0.001})
        integration, sent_s, wall = send_phase(sim, args.n)
        received, received_s = receive_phase(sim, integration, tmp / "gunicorn.log")
        processed, processed_s = process_phase(integration)
        read = Message.objects.filter(integration=integration, status="read").count()
        rates = {"sent": args.n / sent_s, "received": received / received_s, "processed": processed / processed_s}
        print(f"machine: {platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores · "
              f"Python {platform.python_version()} · {connection.vendor} · the simulator shares these cores")
        print(f"{args.n} template messages to {args.n} customers; {received} status notifications (one per POST, {POSTERS} at once)")
        print(f"{'run':<72} {'per second':>10}")
        sent, received, processed = (
            "sent: one hi_worker, POST /messages to the simulator",
            "received: gunicorn (hi.webcommand) verifies X-Hub-Signature-256 and stores",
            "processed: one worker splits the notifications and applies each status",
        )
        print(f"{sent:<72} {rates['sent']:>10.0f}   ({sent_s:.2f} s of work, {wall:.2f} s wall)")
        print(f"{received:<72} {rates['received']:>10.0f}   ({received_s:.2f} s)")
        print(f"{processed:<72} {rates['processed']:>10.0f}   ({processed_s:.2f} s)")
        print(f"notifications processed / messages sent: {rates['processed'] / rates['sent']:.1f} (target ≥ 3) · "
              f"messages read at the end: {read}/{args.n}")
        # Receiving is the web tier on cores it shares with the simulator and the worker; Meta sends at most 80
        # messages a second per number by default, so 3 × that is 240 notifications a second.
        print(f"notifications received / messages sent: {rates['received'] / rates['sent']:.1f} "
              f"({rates['received']:.0f} per second against Meta's default 3 × 80 = 240)")
        if read != args.n:
            raise SystemExit(f"FAILED: {read} of {args.n} messages ended read")
    finally:
        if sim is not None:
            sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
