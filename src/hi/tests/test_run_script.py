"""`make run`'s process script: console, worker and the demo's simulators start together, Ctrl-C stops them all."""
from __future__ import annotations

import os
import pty
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_until(fd: int, needle: bytes, timeout_s: float, seen: bytes = b"") -> bytes:
    """Read the terminal until `needle` appears in everything read so far, or time runs out."""
    out, deadline = seen, time.monotonic() + timeout_s
    while needle not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return out


def wait_listening(port: int, timeout_s: float) -> bool:
    """Whether something accepts connections on `port` within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def wait_exit(pid: int, timeout_s: float) -> int | None:
    """The exit status of `pid`, or None if it is still running after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.1)
    return None


def start_in_terminal(env: dict[str, str]) -> tuple[int, int]:
    """`hi_setup` (as `make setup`), then the script in a terminal as an operator runs it: (pid, terminal fd)."""
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "hi_setup"], env=env, check=True, capture_output=True, timeout=120)
    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.chdir(ROOT)
        os.execvpe("bash", ["bash", "scripts/run.sh"], env)
    return pid, fd


def script_env(tmp_path, **extra: str) -> dict[str, str]:
    """A private var/ and SQLite database, and free ports."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HI_DEMO"}}
    return {**env, "HI_VAR_DIR": str(tmp_path), "HI_ADMIN_PASSWORD": "run-script-test-password", **extra}


def test_ctrl_c_in_the_terminal_stops_the_console_worker_and_simulators(tmp_path):
    web, demo, ifood, whatsapp = free_port(), free_port(), free_port(), free_port()
    env = script_env(tmp_path, HI_PORT=str(web), HI_DEMO_PORT=str(demo), HI_IFOOD_DEMO_PORT=str(ifood), HI_WHATSAPP_DEMO_PORT=str(whatsapp))
    pid, fd = start_in_terminal(env)
    status = None
    try:
        output = read_until(fd, b"Quit the server", 60)
        output = read_until(fd, b"hi worker", 30, output)
        assert b"Quit the server" in output and b"hi worker" in output, output.decode(errors="replace")
        # The iFood demo integration was added once the simulator answered, before the console started
        assert "Added “iFood (demo)”".encode() in output, output.decode(errors="replace")
        # and the WhatsApp one, connected to its simulator (which posts to the integration's receive URL)
        assert "Added “WhatsApp (demo)”".encode() in output, output.decode(errors="replace")
        assert wait_listening(web, 10) and wait_listening(demo, 10) and wait_listening(ifood, 10) and wait_listening(whatsapp, 10)
        state = requests.get(f"http://127.0.0.1:{whatsapp}/_simulator/state", timeout=5).json()
        assert "/hooks/" in state["knobs"]["callback_url"] and state["verify_token_set"]
        assert requests.get(f"http://127.0.0.1:{web}/login/", timeout=5).status_code == 200
        assert requests.get(f"http://127.0.0.1:{demo}/_simulator/faults", timeout=5).status_code == 200
        assert requests.get(f"http://127.0.0.1:{ifood}/_simulator/faults", timeout=5).status_code == 200
        os.write(fd, b"\x03")  # Ctrl-C
        output = read_until(fd, b"stopped after", 15, output)
        status = wait_exit(pid, 15)
        assert status is not None, output.decode(errors="replace")
        assert os.waitstatus_to_exitcode(status) == 0
        assert b"stopped after" in output, output.decode(errors="replace")  # the worker stopped cleanly
        for port in (web, demo, ifood, whatsapp):
            with socket.socket() as sock:
                assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"
    finally:
        if status is None:
            os.killpg(pid, 9)  # pty.fork made the child a session leader: its group is its pid
            os.waitpid(pid, 0)
        os.close(fd)


def test_hi_demo_0_starts_no_simulator_and_adds_no_demo(tmp_path):
    web, demo, ifood = free_port(), free_port(), free_port()
    env = script_env(tmp_path, HI_PORT=str(web), HI_DEMO_PORT=str(demo), HI_IFOOD_DEMO_PORT=str(ifood), HI_DEMO="0")
    pid, fd = start_in_terminal(env)
    status = None
    try:
        output = read_until(fd, b"hi worker", 60)
        assert b"hi worker" in output and wait_listening(web, 10), output.decode(errors="replace")
        # Neither simulator said it serves (their ports are not probed: other tests may take them meanwhile)
        assert b"simulator on" not in output and b"iFood" not in output and b"WhatsApp" not in output, output.decode(errors="replace")
        os.write(fd, b"\x03")  # Ctrl-C
        status = wait_exit(pid, 15)
        assert status is not None and os.waitstatus_to_exitcode(status) == 0
    finally:
        if status is None:
            os.killpg(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
