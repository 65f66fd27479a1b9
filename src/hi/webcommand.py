"""The production web command, in one place: the README, the operator guide, the benchmark and the slow-client test use it."""
# gunicorn's `asgi` worker class reads requests in an event loop, `hi.asgi` holds each request until
# its body has arrived (HI_WEB_READ_TIMEOUT_S) and runs Django in HI_WEB_THREADS threads, so slow or
# stalled clients never hold a worker. `--no-control-socket`: gunicorn would otherwise open a control
# socket in the user's home directory, which hi does not use.
from __future__ import annotations

from pathlib import Path

DEFAULT_BIND = "127.0.0.1:8000"
DEFAULT_WORKERS = 2


def command(
    *, bind: str = DEFAULT_BIND, workers: int = DEFAULT_WORKERS, root: Path | str = ".", gunicorn: str = ".venv/bin/gunicorn"
) -> list[str]:
    """The production web command as an argument list (from the repository root by default)."""
    return [
        gunicorn,
        "--chdir", str(Path(root) / "src"),
        "--worker-class", "asgi",
        "--workers", str(workers),
        "--bind", bind,
        "--no-control-socket",
        "hi.asgi:application",
    ]  # fmt: skip
