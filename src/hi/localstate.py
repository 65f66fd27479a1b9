"""hi's local state (var/: generated keys, the SQLite file) is private to the user running hi: 0700 and 0600."""
from __future__ import annotations

import os
import stat
from pathlib import Path

#: Bits nobody but the owner gets on what hi creates (group and others: nothing).
PRIVATE_UMASK = 0o077


def private_umask() -> None:
    """Make every file this process creates from now on private (SQLite's -wal and -shm, later keys, the demo marker)."""
    os.umask(os.umask(0) | PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create `path` (0700), or take group and others' access away from an existing one of ours."""
    # Not from a directory shared by design, like /tmp with its sticky bit.
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.stat().st_mode & stat.S_ISVTX:
        _tighten(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty (0600) when missing, or take group and others' access away from an existing one of ours."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        _tighten(path, 0o600)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a new file that is 0600 from its first byte (never readable by others, even for a moment)."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(text)
    _tighten(path, 0o600)


def _tighten(path: Path, mode: int) -> None:
    """chmod `path` to `mode` when it is ours and more open (someone else's file is left as it is)."""
    info = path.stat()
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(mode)
