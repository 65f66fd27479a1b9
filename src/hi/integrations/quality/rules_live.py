"""The checks that run the service: its simulator's fault knobs over HTTP, and its diagnostics with canary secrets."""
from __future__ import annotations

import http.client
import importlib
import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.db import DatabaseError, transaction

from hi.workspaces.models import Workspace

from ..config.store import save_attributes
from ..console.diagnostics import build_diagnostics
from ..contract.attributes import AttributeSpec, ValueType, validate_values
from ..core.errors import RuleNotApplicable
from ..models import Integration, IntegrationState
from ..simulation import CONTROL_PREFIX, STANDARD_KNOBS, FakeProviderServer
from .canary import CANARY, leaks
from .model import Subject
from .standards import SIMULATOR_HOOK

#: Where the knob checks send their requests: a path no provider serves (the knobs answer before any route).
PROBE = "/hi-quality-probe"
#: The latency asked for: short, but long enough to be told from no latency at all.
LATENCY_S = 0.3
#: Each standard knob as the checklist sets it, what a request must then get, in words, and how to see it.
SCENARIOS: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("an outage", {"status": 503}, "a 503"),
    ("refused credentials", {"auth_refused": True}, "a 401"),
    ("a rate limit", {"rate_limited": True, "retry_after_s": 7}, "a 429 with Retry-After: 7"),
    ("latency", {"delay_s": LATENCY_S}, f"an answer after {LATENCY_S} s or more"),
)


def call(base_url: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict[str, str], bytes, float]:
    """One request to a local simulator: (status, headers, body, seconds taken)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    started = time.monotonic()
    try:
        payload = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=payload, headers={"Content-Type": "application/json"} if payload else {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read(), time.monotonic() - started
    finally:
        connection.close()


def effect_seen(scenario: str, status: int, headers: dict[str, str], seconds: float) -> bool:
    """Whether a probe's answer shows the knob's effect."""
    return {
        "an outage": status == 503,
        "refused credentials": status == 401,
        "a rate limit": status == 429 and headers.get("retry-after") == "7",
        "latency": seconds >= LATENCY_S,
    }[scenario]


def knob_problems(base_url: str) -> list[str]:
    """What a running simulator at `base_url` gets wrong of the standard fault knobs, set through its control endpoint."""
    endpoint = f"{CONTROL_PREFIX}faults"
    try:
        status, _, body, _ = call(base_url, "GET", endpoint)
        shown = json.loads(body) if status == 200 else None
    except (OSError, ValueError) as exc:
        return [f"GET {endpoint} failed: {exc}"]
    if not isinstance(shown, dict):
        return [f"GET {endpoint} answered {status}, not 200 with the knobs as a JSON object"]
    missing = [knob for knob in STANDARD_KNOBS if knob not in shown]
    if missing:
        return [f"GET {endpoint} does not show the standard knob(s) {', '.join(missing)}"]
    problems = []
    for scenario, knobs, expected in SCENARIOS:
        try:
            status, _, body, _ = call(base_url, "POST", endpoint, knobs)
            if status != 200:
                problems.append(f"{scenario}: POST {endpoint} {json.dumps(knobs)} answered {status}: {body[:200]!r}")
                continue
            status, headers, _, seconds = call(base_url, "GET", PROBE)
            if not effect_seen(scenario, status, headers, seconds):
                problems.append(f"{scenario}: after POST {endpoint} {json.dumps(knobs)} a request got {status} in "
                                f"{seconds:.2f} s, not {expected}")
        except OSError as exc:
            problems.append(f"{scenario}: the simulator stopped answering: {exc}")
        finally:
            try:
                call(base_url, "POST", endpoint, {"reset": True})
            except OSError:
                pass  # already reported: the scenario's own request failed the same way
    return problems


def check_simulator_knobs(subject: Subject) -> list[str]:
    """The service's simulator (simulator.build()) honours the standard fault knobs posted to its control endpoint."""
    name = f"{subject.app}.simulator"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return [f"there is no simulator/ package: add {name} with {SIMULATOR_HOOK}() returning the provider's FakeProviderServer"]
    build = getattr(module, SIMULATOR_HOOK, None)
    if not callable(build):
        return [f"{name} has no {SIMULATOR_HOOK}() hook returning the simulator with its defaults, not started"]
    server = build()
    if not isinstance(server, FakeProviderServer):
        return [f"{name}.{SIMULATOR_HOOK}() returned {type(server).__name__}, not a FakeProviderServer"]
    server.start()
    try:
        return knob_problems(server.url)
    finally:
        server.stop()


def canary_for(spec: AttributeSpec) -> str:
    """The canary value of one secret attribute: the test kit's canary, told apart by the key."""
    return f"{CANARY}-{spec.key}"


def plausible(spec: AttributeSpec) -> str:
    """A raw value a non-secret attribute accepts offline: its default, else one of its type (a public URL for a URL)."""
    # A URL's default may be a local simulator, which the offline check refuses unless loopback is allowed.
    if spec.default and spec.value_type is not ValueType.URL:
        return spec.default
    return {
        ValueType.URL: "https://provider.example.com/",
        ValueType.INTEGER: str(spec.min_value if spec.min_value is not None else 1),
        ValueType.BOOLEAN: "false",
        ValueType.CHOICE: spec.choices[0][0] if spec.choices else "",
    }.get(spec.value_type, "quality-check")


def diagnostics_text(subject: Subject, values: dict[str, Any]) -> str:
    """The diagnostics document of an integration of the type with `values`, built in a transaction that is rolled back."""
    with transaction.atomic():
        marker = uuid.uuid4().hex[:12]
        workspace = Workspace.objects.create(slug=f"hi-quality-{marker}", name="hi_quality")
        integration = Integration.objects.create(workspace=workspace, integration_type=subject.type_id, name="Quality check",
                                                 unique_id=f"quality-{marker}", state=IntegrationState.ACTIVE)
        save_attributes(integration, values, actor="hi_quality")
        document = json.dumps(build_diagnostics(integration), default=str)
        transaction.set_rollback(True)
    return document


def leak_problems(document: str, canaries: dict[str, str]) -> list[str]:
    """Each secret attribute whose canary can be read out of the document, and how (literal, base64, …)."""
    return [f"the secret attribute `{key}` can be read in the diagnostics ({', '.join(how)})"
            for key, canary in canaries.items() if (how := leaks(document, canary))]


def check_diagnostics_redacted(subject: Subject) -> list[str]:
    """No canary secret can be read, in any encoding, in the diagnostics of an integration holding canaries in every secret."""
    specs = subject.gateway.attribute_type.specs() if subject.gateway.attribute_type else []
    canaries = {spec.key: canary_for(spec) for spec in specs if spec.is_secret}
    if not canaries:
        raise RuleNotApplicable("not applicable: the service has no secret attribute")
    values, errors = validate_values(specs, {spec.key: canaries.get(spec.key) or plausible(spec) for spec in specs})
    if errors:
        return [f"no integration could be built to check: {key}: {message}" for key, message in errors.items()]
    try:
        document = diagnostics_text(subject, values)
    except DatabaseError as exc:
        return [f"the database could not be used ({type(exc).__name__}: {exc}): run manage.py migrate"]
    problems = leak_problems(document, canaries)
    service = json.loads(document).get("service")
    if isinstance(service, dict) and set(service) == {"error"}:
        problems.append(f"the gateway's diagnostics() raised, so it could not be checked: {service['error']}")
    return problems
