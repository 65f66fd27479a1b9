"""var/ and the SQLite database are private to hi's user (0700 / 0600), also the files SQLite and hi create later."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
#: Starts hi as a process would (settings, migrations), writes while the connection is open, and reports the modes.
SCRIPT = """
import json, os, stat, sys
import django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS probe (x integer)")
    cursor.execute("INSERT INTO probe VALUES (1)")
    var = os.environ["HI_VAR_DIR"]
    modes = {name: oct(stat.S_IMODE(os.stat(os.path.join(var, name)).st_mode)) for name in os.listdir(var)}
    modes["."] = oct(stat.S_IMODE(os.stat(var).st_mode))
print(json.dumps(modes))
"""


def start_hi(var: Path) -> dict[str, str]:
    """Run SCRIPT with a permissive umask (022) and the embedded defaults; the modes it saw, by file name."""
    env = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "HI_VAR_DIR": str(var),
        "DJANGO_SETTINGS_MODULE": "hi.settings", "PYTHONPATH": str(ROOT / "src"),
    }  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT, preexec_fn=lambda: os.umask(0o022)
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_fresh_install_keeps_var_and_the_database_private(tmp_path):
    modes = start_hi(tmp_path / "var")
    assert modes["."] == "0o700"
    for name in ("hi.sqlite3", "hi.sqlite3-wal", "hi.sqlite3-shm", "secret_key", "encryption_key"):
        assert modes.get(name) == "0o600", (name, modes)


def test_an_older_install_left_readable_is_made_private(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    for name in ("hi.sqlite3", "secret_key"):
        (var / name).write_text("" if name.endswith("sqlite3") else "an-old-generated-secret-key\n")
        (var / name).chmod(0o644)
    modes = start_hi(var)
    assert modes["."] == "0o700" and modes["hi.sqlite3"] == "0o600" and modes["secret_key"] == "0o600"
