"""manage.py hi_worker: run directives, the schedule and listeners until stopped."""
from argparse import ArgumentTypeError

from django.conf import settings
from django.core.management.base import BaseCommand

from hi.integrations.engine.dblocks import set_lock_wait
from hi.integrations.engine.worker import WorkerProcess


def positive(raw: str) -> int:
    """An integer of at least 1, for the command's counts."""
    try:
        value = int(raw)
    except ValueError:
        raise ArgumentTypeError(f"{raw!r} is not a whole number.") from None
    if value < 1:
        raise ArgumentTypeError(f"{value} is less than 1.")
    return value


class Command(BaseCommand):
    """One worker process; start as many as you like against one database."""

    help = "Run hi's worker: directives, scheduled jobs, set-up retries and websocket listeners. Ctrl-C stops it cleanly."

    def add_arguments(self, parser) -> None:
        """--concurrency, --per-integration, --batch, --poll, --drain."""
        parser.add_argument(
            "--concurrency", type=positive, default=None,
            help="Work run at once, each in a thread (default HI_WORKER_CONCURRENCY, 4).",
        )
        parser.add_argument(
            "--per-integration", type=positive, default=None,
            help="Of that, the most for one integration (default HI_WORKER_PER_INTEGRATION, 1).",
        )
        parser.add_argument("--batch", type=positive, default=10, help="The most directives one lane claims at a time (default 10).")
        parser.add_argument("--poll", type=float, default=0.5, help="Seconds to wait when nothing is due (default 0.5).")
        parser.add_argument("--drain", action="store_true", help="Exit once nothing is due (for scripts and benchmarks).")

    def handle(self, *args, concurrency: int | None, per_integration: int | None, batch: int, poll: float, drain: bool, **options) -> None:
        """Run until SIGINT/SIGTERM (or, with --drain, until the queue is empty)."""
        # Nobody waits on the worker: it may wait for a database lock longer than a web request does.
        set_lock_wait(settings.HI_WORKER_DB_LOCK_WAIT_S)
        worker = WorkerProcess(batch=batch, poll_s=poll, drain=drain, concurrency=concurrency, per_integration=per_integration)
        worker.install_signals()
        self.stdout.write(
            f"hi worker {worker.id} started with {worker.slots.size} slot(s), {worker.slots.per_integration} per integration"
            " (Ctrl-C stops it after the directives it is running)."
        )
        worker.run()
        self.stdout.write(f"hi worker {worker.id} stopped after {worker.executed} directive(s).")
