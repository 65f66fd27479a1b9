"""A service's part in `make run`'s demo (DemoSeed): the simulator it starts and the integration it adds against it, once."""
# The framework never names a service: `manage.py hi_demo` (the plan scripts/run.sh follows) and
# `hi_setup --demo` find `<IntegrationType.app>.demo` and read its module-level DEMO, as `hi_simulator`
# finds `<app>.simulator`. The module is imported only for the demo: it may import the service's
# simulator (for the credentials the simulator accepts), which a real installation never loads.
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from ..core.errors import DemoUnavailable
from ..models import Integration
from ..types import IntegrationType

#: The module a service's demo lives in, and the name of its DemoSeed there.
MODULE = "demo"
ATTRIBUTE = "DEMO"


def no_arguments() -> Sequence[str]:
    """A simulator started with its defaults."""
    return ()


def nothing_to_say() -> str:
    """A demo `make run` says nothing about once it runs."""
    return ""


@dataclass(frozen=True)
class DemoSeed:
    """What a service offers `make run`: its simulator (`hi_simulator <type id>`) and, when `name` is set, an integration on it."""

    #: Where `make run` starts the simulator on 127.0.0.1 unless `port_variable` says otherwise.
    port: int
    #: The environment variable that moves it (HI_IFOOD_DEMO_PORT); hi_setup --demo reads it too.
    port_variable: str
    #: More `hi_simulator` options `make run` passes (read when the plan is made, so they may follow the environment).
    simulator_arguments: Callable[[], Sequence[str]] = no_arguments
    #: Settings the console and the worker get under the demo, unless the environment sets them (iFood's 5 s polls).
    settings: Mapping[str, str] = field(default_factory=dict)
    #: What `make run` says once everything runs ("iFood demo: a new order every 15 s under Orders").
    running: Callable[[], str] = nothing_to_say
    # The integration the demo adds through the console's validated flow (none when `name` is empty):
    #: Its name, and the unique id its connection test finds (what "added once" remembers).
    name: str = ""
    unique_id: str = ""
    #: Its raw attributes against the simulator at a URL.
    attributes: Callable[[str], Mapping[str, Any]] | None = None
    #: After adding it, and on every later run while it exists: tell the simulator about hi (a provider
    #: that calls hi back needs the integration's receive URL, which exists only once the integration does).
    connect: Callable[[Integration, str], None] | None = None
    #: What the set-up says after "Added “name” to the workspace …:"; may name {url}.
    added: str = ""

    @property
    def adds_integration(self) -> bool:
        """Whether the demo adds an integration (the demo provider's only starts its simulator)."""
        return bool(self.name and self.attributes is not None)

    def port_now(self) -> int:
        """The simulator's port: the environment's `port_variable`, else the default; DemoUnavailable when it is no port."""
        raw = os.environ.get(self.port_variable, "").strip()
        if not raw:
            return self.port
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise DemoUnavailable(f"{self.port_variable}={raw!r} is not a port (1-65535).")
        return int(raw)

    def url(self) -> str:
        """Where `make run` started the simulator."""
        return f"http://127.0.0.1:{self.port_now()}"


def demo_seed(member: IntegrationType) -> DemoSeed | None:
    """The type's DemoSeed, or None when its service offers no demo (no demo module, or no DEMO in it)."""
    name = f"{member.app}.{MODULE}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise  # the demo exists but something it imports is missing: say so
        return None
    seed = getattr(module, ATTRIBUTE, None)
    return seed if isinstance(seed, DemoSeed) else None


def demo_seeds() -> list[tuple[IntegrationType, DemoSeed]]:
    """Every type whose service offers a demo, in the registry's order: a demo that reacts to another's comes after it."""
    return [(member, seed) for member in IntegrationType if (seed := demo_seed(member)) is not None]
