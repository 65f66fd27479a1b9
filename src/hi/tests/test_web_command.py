"""The production web command, started for real, keeps answering while slow clients hang on to it."""
from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from hi import webcommand
from hi.integrations.config.store import save_attributes
from hi.integrations.console.summary import receive_url
from hi.integrations.models import InboundEvent, Integration, IntegrationState, Worker
from hi.integrations.outbound import standard_webhooks
from hi.integrations.testing.processes import ROOT, database_url
from hi.integrations.testing.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
#: Short, so that the test sees stalled clients cut off; production uses 10 s.
READ_TIMEOUT_S = 3


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """The production command in a subprocess, with its output in a file."""

    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def base(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """What the server wrote so far."""
        return self.log.read_text(errors="replace")


@pytest.fixture
def server(tmp_path):
    """`webcommand.command()` on a free port, against the test database."""
    port = free_port()
    log = tmp_path / "web.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "HI_SECRET_KEY": settings.SECRET_KEY,
        "HI_ENCRYPTION_KEYS": ",".join(settings.HI_ENCRYPTION_KEYS),
        "HI_WEB_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
        "PYTHONUNBUFFERED": "1",
    }
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            webcommand.command(bind=f"127.0.0.1:{port}", root=ROOT, gunicorn=gunicorn), env=env, stdout=out, stderr=subprocess.STDOUT
        )
    running = Server(port, proc, log)

    def answers() -> bool:
        """Whether the server answers /healthz, or has exited."""
        try:
            return requests.get(f"{running.base}/healthz", timeout=2).status_code in (200, 503)
        except requests.RequestException:
            return proc.poll() is not None

    try:
        assert wait_for(answers, 60, 0.2) and proc.poll() is None, running.output()
        yield running
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def endpoint(workspace) -> tuple[Integration, str]:
    """An active signed-webhook integration and its Standard Webhooks secret."""
    secret = standard_webhooks.generate_secret()
    integration = Integration.objects.create(
        workspace=workspace, integration_type="webhook", name="Receiver", unique_id="https://example.com/hook",
        state=IntegrationState.ACTIVE
    )
    save_attributes(integration, {"url": "https://example.com/hook", "secret": secret}, actor="test")
    return integration, secret


@dataclass
class SlowClient:
    """A raw connection that sends a POST's body one byte a second; records how it ended."""

    port: int
    path: str
    declared: int
    sent_at_once: bytes = b""
    drip: int = 0
    outcome: list[str] = field(default_factory=list)

    def run(self) -> None:
        """Send the head, then drip the body until the server answers or cuts the connection."""
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            head = (
                f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nContent-Length: {self.declared}\r\n\r\n"
            )
            sock.sendall(head.encode() + self.sent_at_once)
            sock.settimeout(1)
            for _ in range(self.drip):
                try:
                    sock.sendall(b" ")
                    answer = sock.recv(200)
                except socket.timeout:
                    continue  # no answer yet: the next byte, a second later
                except OSError as exc:
                    self.outcome.append(f"cut off: {type(exc).__name__}")
                    return
                self.outcome.append(answer.decode("latin-1").split("\r\n", 1)[0] if answer else "closed")
                return
            sock.settimeout(30)
            try:
                answer = sock.recv(200)
                self.outcome.append(answer.decode("latin-1").split("\r\n", 1)[0] if answer else "closed")
            except OSError as exc:
                self.outcome.append(f"cut off: {type(exc).__name__}")


def test_two_slow_clients_and_a_false_content_length_do_not_stop_the_web_tier(server, endpoint):
    integration, secret = endpoint
    Worker.objects.create(id="test-worker", hostname="test", pid=1, started_at=timezone.now(), heartbeat_at=timezone.now())
    path = urlsplit(receive_url(integration)).path
    slow = [SlowClient(server.port, path, declared=60, drip=60) for _ in range(2)]
    false_length = SlowClient(server.port, path, declared=1000, sent_at_once=b"{}")  # declares more than it sends
    clients = [*slow, false_length]
    threads = [threading.Thread(target=client.run, daemon=True) for client in clients]
    for thread in threads:
        thread.start()
    time.sleep(1)  # the three are connected and hanging on
    for _ in range(3):
        health = requests.get(f"{server.base}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        body = json.dumps({"type": "order.created", "timestamp": int(time.time()), "data": {"id": 1}}).encode()
        headers = standard_webhooks.headers(standard_webhooks.new_message_id(), int(time.time()), body, [secret])
        signed = requests.post(f"{server.base}{path}", data=body, headers={**headers, "Content-Type": "application/json"}, timeout=10)
        assert signed.status_code == 202, signed.text
    # The stalled clients are cut off after the read timeout, long before they would have finished. The join waits
    # as long as a client can run (60 one-second drips, then 30 s), so a loaded machine cannot leave an outcome
    # unrecorded: a server that never cut them would answer their finished body instead, and fail below.
    deadline = time.monotonic() + 100
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert false_length.outcome == ["HTTP/1.1 408 Request Timeout"]
    for client in slow:
        assert client.outcome, "a slow client was still connected after 100 s"
        outcome = client.outcome[0]
        assert outcome in ("HTTP/1.1 408 Request Timeout", "closed") or outcome.startswith("cut off"), client.outcome
    assert InboundEvent.objects.filter(integration=integration).count() == 3  # the slow ones never reached the view
    output = server.output()
    assert "WORKER TIMEOUT" not in output and "Internal Server Error" not in output and " 500 " not in output, output


def test_the_readme_and_the_operator_guide_show_the_command_that_is_tested():
    shown = shlex.join(webcommand.command())
    assert shown == (
        ".venv/bin/gunicorn --chdir src --worker-class asgi --workers 2 --bind 127.0.0.1:8000 --no-control-socket hi.asgi:application"
    )
    for doc in ("README.md", "docs/operators.md"):
        assert shown in (ROOT / doc).read_text(), f"{doc} does not show the production web command"
