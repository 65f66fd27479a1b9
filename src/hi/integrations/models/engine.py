"""The engine's rows: provider calls, breakers, directives and attempts, events, workers, leases, jobs."""
from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from hi.workspaces.models import Workspace

from ..core.redaction import RedactedTextField
from .core import Integration


class ProviderCall(models.Model):
    """One HTTP attempt to a provider (URL with secrets stripped), kept for a bounded time."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="calls")
    at = models.DateTimeField(db_index=True)
    method = models.CharField(max_length=8)
    url = models.TextField()
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error_class = models.CharField(max_length=64, blank=True, default="")
    attempt = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["integration", "-at"])]

    @property
    def ok(self) -> bool:
        """Whether the attempt got a 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


class BreakerState(models.Model):
    """The last known circuit-breaker state of an integration, shared by every process."""

    class State(models.TextChoices):
        """pybreaker's states."""

        CLOSED = "closed", "Closed"
        OPEN = "open", "Open"
        HALF_OPEN = "half-open", "Half-open"

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="breaker")
    state = models.CharField(max_length=10, choices=State.choices, default=State.CLOSED)
    fail_counter = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(null=True, blank=True)
    last_transition_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class DirectiveStatus(models.TextChoices):
    """Where a directive is: live (queued, running) or finished."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    DEAD = "dead", "Dead"
    CANCELLED = "cancelled", "Cancelled"


LIVE_STATUSES = (DirectiveStatus.QUEUED, DirectiveStatus.RUNNING)


class Directive(models.Model):
    """A unit of side-effect work for an integration, written with the change that causes it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="directives")
    topic = models.CharField(max_length=100)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=DirectiveStatus.choices, default=DirectiveStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=10)
    next_run_at = models.DateTimeField()
    # Empty means "no dedupe"; otherwise no two live directives share (topic, dedupe_key).
    dedupe_key = models.CharField(max_length=255, blank=True, default="")
    last_error = RedactedTextField(blank=True, default="")
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A replay points at the directive it repeats.
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "dedupe_key"],
                condition=Q(status__in=["queued", "running"]) & ~Q(dedupe_key=""),
                name="one_live_directive_per_dedupe_key",
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_run_at"]),
            models.Index(fields=["integration", "status"]),
        ]

    def __str__(self) -> str:
        """The topic, id and status."""
        return f"{self.topic} #{self.pk} ({self.status})"


class DirectiveAttempt(models.Model):
    """One execution of a directive: when, how long, by whom, and how it ended."""

    class Outcome(models.TextChoices):
        """How an attempt ended."""

        RUNNING = "running", "Running"
        DONE = "done", "Done"
        RETRY = "retry", "Will retry"
        FAILED = "failed", "Failed"
        DEAD = "dead", "Dead"
        WAITING = "waiting", "Waiting (integration or breaker)"
        INTERRUPTED = "interrupted", "Interrupted (worker died)"

    directive = models.ForeignKey(Directive, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    worker = models.CharField(max_length=100)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.RUNNING)
    error = RedactedTextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["started_at"])]


class Event(models.Model):
    """Something that happened in hi; dispatched to subscribed hooks after the commit."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    type = models.CharField(max_length=100, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Null until every hook has run; the worker dispatches events a crashed process left behind.
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["dispatched_at", "created_at"])]


class Worker(models.Model):
    """A running `hi_worker` process and its heartbeat."""

    id = models.CharField(max_length=100, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-heartbeat_at"]


class Lease(models.Model):
    """Single ownership of a job or listener: held by one worker until it expires."""

    name = models.CharField(max_length=200, primary_key=True)
    holder = models.CharField(max_length=100)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()


class JobState(models.Model):
    """When a scheduled job (per integration, or housekeeping) last ran and next runs."""

    integration = models.ForeignKey(Integration, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    name = models.CharField(max_length=100)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = RedactedTextField(blank=True, default="")
    # Runs that failed since the last success: enough of them make the integration Degraded.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "name"], name="one_state_per_job"),
            # NULLs are distinct in unique constraints: housekeeping jobs need their own.
            models.UniqueConstraint(fields=["name"], condition=Q(integration__isnull=True), name="one_state_per_housekeeping_job"),
        ]


class ListenerState(models.Model):
    """The connection state of a websocket listener, as the console shows it."""

    class State(models.TextChoices):
        """Connection states."""

        CONNECTING = "connecting", "Connecting"
        CONNECTED = "connected", "Connected"
        BACKOFF = "backoff", "Waiting to reconnect"
        STOPPED = "stopped", "Stopped"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="listeners")
    name = models.CharField(max_length=100)
    state = models.CharField(max_length=12, choices=State.choices, default=State.STOPPED)
    since = models.DateTimeField()
    worker = models.CharField(max_length=100, blank=True, default="")
    reconnects = models.PositiveIntegerField(default=0)
    last_error = RedactedTextField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "name"], name="one_state_per_listener")]


class InboundEvent(models.Model):
    """A request a provider sent to hi: stored raw (accepted or not) before anything acts on it."""

    class Status(models.TextChoices):
        """What became of the request."""

        ACCEPTED = "accepted", "Accepted"
        DUPLICATE = "duplicate", "Duplicate (already received)"
        REJECTED = "rejected", "Rejected"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Processing failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="inbound_events")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The provider's own id of the event (webhook-id, iFood's event id): the dedupe key.
    provider_event_id = models.CharField(max_length=255, blank=True, default="")
    event_type = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices)
    http_status = models.PositiveSmallIntegerField()
    reason = RedactedTextField(blank=True, default="")
    # Request headers with credentials and signatures replaced by **REDACTED**.
    headers = models.JSONField(default=dict, blank=True)
    # The raw body as received (decoded as UTF-8, undecodable bytes escaped); a refused request keeps only
    # its first HI_INBOUND_REJECTED_EXCERPT_BYTES (body_size is still the size received).
    body = models.TextField(blank=True, default="")
    body_size = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Where the request came from (REMOTE_ADDR, or the proxy's X-Forwarded-For entry behind HI_BEHIND_PROXY).
    source_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "provider_event_id"],
                condition=Q(status__in=["accepted", "processed", "failed"]) & ~Q(provider_event_id=""),
                name="one_accepted_inbound_event_per_provider_id",
            )
        ]
        indexes = [
            models.Index(fields=["integration", "-received_at"]),
            # The worker's pass looks for accepted rows, oldest first, every second.
            models.Index(fields=["status", "received_at"]),
        ]
