"""manage.py hi_worker: run directives, the schedule and listeners until stopped."""
from django.conf import settings
from django.core.management.base import BaseCommand

from hi.integrations.dblocks import set_lock_wait
from hi.integrations.worker import WorkerProcess


class Command(BaseCommand):
    """One worker process; start as many as you like against one database."""

    help = "Run hi's worker: directives, scheduled jobs, set-up retries and websocket listeners. Ctrl-C stops it cleanly."

    def add_arguments(self, parser) -> None:
        """--batch, --poll, --drain."""
        parser.add_argument("--batch", type=int, default=10, help="Directives claimed at a time (default 10).")
        parser.add_argument("--poll", type=float, default=0.5, help="Seconds to wait when nothing is due (default 0.5).")
        parser.add_argument("--drain", action="store_true", help="Exit once nothing is due (for scripts and benchmarks).")

    def handle(self, *args, batch: int, poll: float, drain: bool, **options) -> None:
        """Run until SIGINT/SIGTERM (or, with --drain, until the queue is empty)."""
        # Nobody waits on the worker: it may wait for a database lock longer than a web request does.
        set_lock_wait(settings.HI_WORKER_DB_LOCK_WAIT_S)
        worker = WorkerProcess(batch=batch, poll_s=poll, drain=drain)
        worker.install_signals()
        self.stdout.write(f"hi worker {worker.id} started (Ctrl-C stops it after the current directive).")
        worker.run()
        self.stdout.write(f"hi worker {worker.id} stopped after {worker.executed} directive(s).")
