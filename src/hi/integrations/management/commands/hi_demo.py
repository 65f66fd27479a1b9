"""`manage.py hi_demo [--shell]`: the demo `make run` starts, read from every service's DemoSeed (its `demo.py`)."""
# scripts/run.sh names no service: it evaluates `hi_demo --shell`, whose lines call three functions the
# script defines, each argument shell-quoted here:
#   demo_setting NAME VALUE                         export NAME=VALUE unless the environment sets it
#   demo_simulator TYPE PORT LABEL VARIABLE ARGS…   start `hi_simulator TYPE --port PORT ARGS…` in the background
#   demo_says TEXT                                  print TEXT once everything runs
# then runs `hi_setup --demo`, which adds each demo's integration against the same ports.
from __future__ import annotations

import shlex
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hi.integrations.contract.demos import demo_seeds
from hi.integrations.core.errors import DemoUnavailable


def shell_line(*words: Any) -> str:
    """One command line, every word quoted for the shell."""
    return " ".join(shlex.quote(str(word)) for word in words)


class Command(BaseCommand):
    """manage.py hi_demo [--shell]."""

    help = (
        "Show the demo `make run` starts: each service's simulator (port, options) and the integration `hi_setup --demo` "
        "adds against it; --shell prints it as the lines scripts/run.sh evaluates."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """--shell."""
        parser.add_argument("--shell", action="store_true", help="print the plan as lines for scripts/run.sh (shell-quoted)")

    def handle(self, *args: Any, shell: bool = False, **options: Any) -> None:
        """Print the plan, in the registry's order."""
        lines: list[str] = []
        said: list[str] = []
        try:
            for member, seed in demo_seeds():
                port, arguments = seed.port_now(), list(seed.simulator_arguments())
                if shell:
                    lines += [shell_line("demo_setting", name, value) for name, value in seed.settings.items()]
                    lines.append(shell_line("demo_simulator", member.type_id, port, member.label, seed.port_variable, *arguments))
                    said += [shell_line("demo_says", words) for words in [seed.running()] if words]
                    continue
                lines.append(f"{member.label}: {shell_line('manage.py', 'hi_simulator', member.type_id, '--port', port, *arguments)}")
                lines += [f"  with {name}={value} unless set" for name, value in seed.settings.items()]
                if seed.adds_integration:
                    lines.append(f"  hi_setup --demo adds “{seed.name}” against {seed.url()}")
        except DemoUnavailable as exc:
            raise CommandError(str(exc)) from None
        for line in lines + said:
            self.stdout.write(line)
