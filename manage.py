#!/usr/bin/env python
"""Django's command-line entry point for hi."""
import os
import sys
from pathlib import Path


def main() -> None:
    """Run a management command with `src/` on the import path."""
    sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hi.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
