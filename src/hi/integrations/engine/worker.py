"""The worker: runs directives, the schedule and websocket listeners, with heartbeats and leases."""
# The main thread only decides what runs: anything that may call a provider (a lane of one
# integration's directives, a job occurrence, a set-up retry) runs in one of the worker's slots
# (`slots.py`), at most `HI_WORKER_PER_INTEGRATION` of one integration at once, so one slow
# provider never holds up the others.
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Callable

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from ..config import hookkeys, lifecycle
from ..config.history import failure_text
from ..contract.declarations import Listener, ScheduledJob
from ..contract.gateway import Capability
from ..core.errors import IllegalTransition
from ..factory import get_integration_gateway
from ..models import Directive, DirectiveStatus, Event, InboundEvent, Integration, IntegrationLog, IntegrationState, Worker
from ..outbound.calllog import call_log_days, prune_calls
from ..outbox import events
from . import execution, inbound, leases, refusals, schedule
from .lanes import Lanes
from .slots import Slots

logger = logging.getLogger(__name__)

#: While lanes run, the main thread looks for other work at most this often (and whenever one ends).
BUSY_POLL_S = 0.25


def heartbeat_s() -> float:
    """Seconds between heartbeats (HI_WORKER_HEARTBEAT_S)."""
    return settings.HI_WORKER_HEARTBEAT_S


def stale_after() -> timedelta:
    """A worker whose heartbeat is older than this is dead: its running directives are re-queued."""
    return timedelta(seconds=settings.HI_WORKER_STALE_S)


@dataclass(frozen=True)
class Housekeeping:
    """A framework job every worker may run, once per occurrence across all workers."""

    name: str
    interval_s: float
    run: Callable[["WorkerProcess"], Any]


def live_worker_ids() -> set[str]:
    """Workers whose heartbeat is recent."""
    return set(
        Worker.objects.filter(heartbeat_at__gte=timezone.now() - stale_after(), stopped_at__isnull=True).values_list("id", flat=True)
    )


def _reap(worker: "WorkerProcess") -> int:
    """Re-queue directives of workers that stopped heartbeating."""
    return execution.requeue_interrupted(live_worker_ids() | {worker.id})


def _prune(worker: "WorkerProcess") -> int:
    """Drop old call logs, finished directives, dispatched events, inbound requests, replaced receive-URL keys and stopped workers."""
    now = timezone.now()
    keep = timedelta(days=getattr(settings, "HI_RETENTION_DAYS", 30))
    pruned = 0
    pruned += prune_calls(timedelta(days=call_log_days()))
    finished = [DirectiveStatus.DONE, DirectiveStatus.CANCELLED]
    pruned += Directive.objects.filter(status__in=finished, finished_at__lt=now - keep).delete()[0]
    pruned += Event.objects.filter(dispatched_at__lt=now - keep).delete()[0]
    pruned += IntegrationLog.objects.filter(at__lt=now - keep).delete()[0]
    pruned += InboundEvent.objects.filter(received_at__lt=now - keep).delete()[0]
    pruned += refusals.prune(now)  # refused requests and their tallies go sooner (HI_INBOUND_REJECTED_DAYS)
    pruned += hookkeys.prune()
    pruned += Worker.objects.filter(heartbeat_at__lt=now - timedelta(days=1)).delete()[0]
    return pruned


def _retry_setups(worker: "WorkerProcess") -> int:
    """Start each due set-up retry in a slot of its own (activating calls the provider)."""
    started = 0
    for integration in lifecycle.due_for_retry():
        started += worker.start_task(integration.pk, f"set-up retry of {integration.pk}", partial(_retry_setup, integration))
    return started


def _retry_setup(integration: Integration) -> None:
    """Activate an integration whose set-up retry is due."""
    try:
        lifecycle.activate(integration, "worker")
    except IllegalTransition:
        pass  # another worker got there first


HOUSEKEEPING = (
    Housekeeping("reap_interrupted_directives", 5, _reap),
    Housekeeping("retry_integration_setup", 5, _retry_setups),
    Housekeeping("dispatch_pending_events", 10, lambda worker: events.dispatch_pending()),
    # Providers' requests are only verified and stored in the web process: the worker acts on them.
    Housekeeping("process_inbound_events", 1, lambda worker: inbound.process_pending()),
    Housekeeping("prune", 3600, _prune),
    # Refused requests beyond HI_INBOUND_REJECTED_MAX per integration: checked often, never in the request.
    Housekeeping("cap_rejected_inbound", 60, lambda worker: refusals.enforce_cap()),
)


class WorkerProcess:
    """One `hi_worker` process: a main loop, its slots, a heartbeat thread and listener threads."""

    def __init__(
        self,
        *,
        batch: int = 10,
        poll_s: float = 0.5,
        worker_id: str | None = None,
        drain: bool = False,
        concurrency: int | None = None,
        per_integration: int | None = None,
    ) -> None:
        """A worker with its slots, polling every `poll_s`; `drain` exits when nothing is due."""
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.poll_s = poll_s
        self.drain = drain  # exit when nothing is due (tests, benchmarks, one-shot runs)
        self.slots = Slots(concurrency or settings.HI_WORKER_CONCURRENCY, per_integration or settings.HI_WORKER_PER_INTEGRATION)
        #: Job occurrences this worker took that wait for room in their integration's slots.
        self._waiting_jobs: dict[tuple[int, str], tuple[Integration, ScheduledJob]] = {}
        self._running_jobs: set[tuple[int, str]] = set()
        #: Held while deciding what runs next (claiming a lane, starting a job), so that two slots
        #: never both take the last room of one integration.
        self._dispatch_lock = threading.Lock()
        self.stop = threading.Event()
        # An integration whose due job waits for room gets no new lane, so the job goes first.
        self.lanes = Lanes(self.id, self.slots, self._dispatch_lock, batch=batch, stopping=lambda: self.stopping,
                           held_back=lambda: {integration_id for integration_id, _ in list(self._waiting_jobs)})
        self.held_leases: set[str] = set()
        self.listeners: dict[str, tuple[threading.Thread, threading.Event]] = {}
        self._leases_lock = threading.Lock()
        self._last_listener_check = 0.0
        self._last_schedule_check = 0.0
        self._signalled = False

    @property
    def executed(self) -> int:
        """Directives this worker has run."""
        return self.lanes.executed

    # Life cycle ------------------------------------------------------------------------------
    def install_signals(self) -> None:
        """SIGINT/SIGTERM finish the running directives, then stop."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        """Only set a flag."""
        # A handler that took a lock (Event.set, logging) could deadlock with the code it interrupted,
        # e.g. a second signal arriving inside the first one's Event.set.
        self._signalled = True

    @property
    def stopping(self) -> bool:
        """Whether a stop was requested (by a signal or by request_stop)."""
        return self._signalled or self.stop.is_set()

    def request_stop(self) -> None:
        """Ask the loop to stop after the directives it is running."""
        if not self.stop.is_set():
            logger.info("Worker %s stopping after the directives it is running.", self.id)
        self.stop.set()

    def run(self) -> None:
        """Register, heartbeat, and loop until asked to stop."""
        now = timezone.now()
        Worker.objects.update_or_create(
            id=self.id, defaults={
                "hostname": socket.gethostname(), "pid": os.getpid(), "started_at": now, "heartbeat_at": now, "stopped_at": None
            }
        )
        heart = threading.Thread(target=self._heartbeat, name="hi-heartbeat", daemon=True)
        heart.start()
        self._heart = heart
        logger.info("Worker %s started with %s slot(s), %s per integration.", self.id, self.slots.size, self.slots.per_integration)
        try:
            while not self.stopping and self.slots.failure is None:
                mark = self.slots.finished
                if time.monotonic() - self._last_schedule_check >= 1.0:
                    self._last_schedule_check = time.monotonic()
                    self._housekeeping()
                    self._jobs()
                self._supervise_listeners()
                self._start_waiting_jobs()
                self.lanes.start()
                if self.drain and self.slots.idle and not self._waiting_jobs and not self._work_pending():
                    break
                # Wake when a slot frees (its integration may have more work), else after a short
                # wait: a signal only sets a flag, seen here within poll_s. While lanes run, looking
                # for other work more often than BUSY_POLL_S would only take time from them.
                wait_s = min(self.poll_s, 0.5)
                self.slots.wait(mark, wait_s if self.slots.idle else max(wait_s, BUSY_POLL_S))
        finally:
            self._shutdown()
        if self.slots.failure is not None:
            raise self.slots.failure

    def _shutdown(self) -> None:
        """Let running work finish, stop listeners, give leases back, and mark this worker stopped."""
        if self._signalled:
            logger.info("Worker %s stopping after a signal.", self.id)
        self.stop.set()
        # Running lanes finish their directive and give back the rest; running jobs finish.
        self.slots.close()
        self._waiting_jobs.clear()
        for _, stop in self.listeners.values():
            stop.set()
        for thread, _ in self.listeners.values():
            thread.join(timeout=5)
        with self._leases_lock:
            for name in list(self.held_leases):
                leases.release(name, self.id)
            self.held_leases.clear()
        Worker.objects.filter(id=self.id).update(stopped_at=timezone.now())
        heart = getattr(self, "_heart", None)
        if heart is not None:
            heart.join(timeout=heartbeat_s() + 5)
        logger.info("Worker %s stopped after %s directive(s).", self.id, self.executed)

    def _heartbeat(self) -> None:
        """Every few seconds: prove this worker is alive and renew its leases."""
        while not self.stop.wait(heartbeat_s()):
            try:
                Worker.objects.filter(id=self.id).update(heartbeat_at=timezone.now())
                with self._leases_lock:
                    if self.held_leases:
                        self.held_leases &= leases.renew(sorted(self.held_leases), self.id)
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the heartbeat
                logger.exception("Heartbeat of worker %s failed.", self.id)
            finally:
                close_old_connections()
        connections.close_all()  # this thread's own connection, not left for the server to time out

    # Directives ------------------------------------------------------------------------------
    def _work_pending(self) -> bool:
        """Whether a directive is due now or still running elsewhere (for drain mode)."""
        return Directive.objects.filter(status=DirectiveStatus.RUNNING).exists() or execution.claimable(timezone.now()).exists()

    # The schedule ----------------------------------------------------------------------------
    def _housekeeping(self) -> None:
        """Run each due framework job (one worker per occurrence)."""
        for job in HOUSEKEEPING:
            if schedule.take_due(None, job.name, job.interval_s):
                self._timed(None, job.name, lambda job=job: job.run(self))

    def _jobs(self) -> None:
        """Take each due job that gateways declare for their active integrations; slots run them."""
        for integration in Integration.objects.filter(state=IntegrationState.ACTIVE):
            gateway = get_integration_gateway(integration.integration_type)
            if not gateway.supports(Capability.SCHEDULED_JOBS):
                continue
            for job in gateway.scheduled_jobs():
                key = (integration.pk, job.name)
                if key in self._running_jobs or key in self._waiting_jobs:
                    continue  # one occurrence of a job at a time in this worker
                if job.single_owner and not self._hold(schedule.lease_name(integration, job.name)):
                    continue
                if schedule.take_due(integration, job.name, job.interval_s):
                    self._waiting_jobs[key] = (integration, job)
        self._start_waiting_jobs()

    def start_task(self, integration_id: int, name: str, run: Callable[[], object]) -> bool:
        """Run `run` in a free slot if the integration has room (decided under the dispatch lock)."""
        with self._dispatch_lock:
            return not self.stopping and self.slots.start(integration_id, name, run)

    def _start_waiting_jobs(self) -> None:
        """Start the job occurrences this worker took, each as soon as its integration has room."""
        for key, (integration, job) in list(self._waiting_jobs.items()):
            self._running_jobs.add(key)
            if self.start_task(integration.pk, f"job {job.name} of {integration.pk}", partial(self._run_job, key, integration, job)):
                del self._waiting_jobs[key]
            else:
                self._running_jobs.discard(key)

    def _run_job(self, key: tuple[int, str], integration: Integration, job: ScheduledJob) -> None:
        """A slot's task: one occurrence of a job."""
        try:
            self._timed(integration, job.name, lambda: job.run(integration))
        finally:
            self._running_jobs.discard(key)

    def _timed(self, integration: Integration | None, name: str, run: Callable[[], Any]) -> None:
        """Run a job occurrence, recording its duration and error."""
        started = time.monotonic()
        error = ""
        try:
            run()
        except Exception as exc:  # noqa: BLE001 - recorded on the job; the loop goes on
            error = f"{type(exc).__name__}: {failure_text(integration, exc) if integration else exc}"
            logger.error("Job %s (%s) failed: %s", name, integration.pk if integration else "hi", error)
        schedule.record(integration, name, int((time.monotonic() - started) * 1000), error)

    def _hold(self, name: str) -> bool:
        """Take (or keep) a lease for this worker."""
        with self._leases_lock:
            if name in self.held_leases:
                return True
            if leases.acquire(name, self.id):
                self.held_leases.add(name)
                return True
        return False

    # Websocket listeners -----------------------------------------------------------------------
    def _supervise_listeners(self) -> None:
        """Every few seconds: start listeners whose lease we can take, stop those we should not run."""
        if time.monotonic() - self._last_listener_check < heartbeat_s():
            return
        self._last_listener_check = time.monotonic()
        wanted: dict[str, Listener] = {}
        for integration in Integration.objects.filter(state=IntegrationState.ACTIVE):
            gateway = get_integration_gateway(integration.integration_type)
            if gateway.supports(Capability.WEBSOCKET_LISTENERS):
                for listener in gateway.websocket_listeners(integration):
                    wanted[f"listener:{integration.pk}:{listener.name}"] = listener
        for name, (thread, stop) in list(self.listeners.items()):
            with self._leases_lock:
                lost = name not in self.held_leases
            if name not in wanted or lost or not thread.is_alive():
                stop.set()
                thread.join(timeout=5)
                del self.listeners[name]
                with self._leases_lock:
                    if name in self.held_leases and name not in wanted:
                        leases.release(name, self.id)
                        self.held_leases.discard(name)
        for name, listener in wanted.items():
            if name not in self.listeners and self._hold(name):
                stop = threading.Event()
                thread = threading.Thread(target=self._run_listener, args=(listener, stop), name=name, daemon=True)
                self.listeners[name] = (thread, stop)
                thread.start()

    def _run_listener(self, listener: Listener, stop: threading.Event) -> None:
        """A listener's thread: run until stopped, then release the database connection."""
        try:
            listener.worker_id = self.id
            listener.run(stop)
        except Exception:  # noqa: BLE001 - the supervisor restarts it on its next check
            logger.exception("Listener %s stopped with an error.", threading.current_thread().name)
        finally:
            connections.close_all()  # the thread's own connection
