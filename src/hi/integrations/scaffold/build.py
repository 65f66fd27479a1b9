"""Creating a new service all at once or not at all: checked, rendered in a temporary folder, moved into place, registered last."""
# The order is what makes "nothing is created on error" hold. Everything that can be refused (the name,
# the files, the registry's shape) is checked, and every file rendered and parsed, before the tree is
# touched. Then the package is built in a temporary folder beside its destination and renamed into place
# (one rename, on the same file system), the docs page is created exclusively, and the two registry files
# are replaced last, each through a temporary file. Any failure on the way undoes the steps already done,
# in reverse, and is reported as ScaffoldRefused with its cause.
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..core.errors import ScaffoldRefused
from .names import AUTH_CHOICES, Names, names_for
from .registry import taken, with_app, with_member
from .render import Options, description, docs_page, service_files

#: The options of a bare service (--auth api-key, no --inbound, --orders or --poll); frozen, so safe as a default.
DEFAULT_OPTIONS = Options()


@dataclass
class Layout:
    """Where a new service's files and the registry live in a tree (its root holds src/ and docs/)."""

    root: Path
    name: str

    @property
    def package(self) -> Path:
        """src/hi/services/<name>/."""
        return self.root / "src" / "hi" / "services" / self.name

    @property
    def docs(self) -> Path:
        """docs/services/<name>.md."""
        return self.root / "docs" / "services" / f"{self.name}.md"

    @property
    def types(self) -> Path:
        """The IntegrationType enum's module."""
        return self.root / "src" / "hi" / "integrations" / "types.py"

    @property
    def settings(self) -> Path:
        """The settings module with INSTALLED_APPS."""
        return self.root / "src" / "hi" / "settings.py"


@dataclass
class Created:
    """What startintegration made: the service's names and every file it created or changed, relative to the root."""

    names: Names
    files: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """Everything to write, computed and checked before the tree is touched."""

    layout: Layout
    names: Names
    package_files: dict[str, str]
    docs_text: str
    registry: dict[Path, tuple[str, str]]  # path → (text now, text after)


def plan(root: Path, name: str, label: str = "", options: Options = DEFAULT_OPTIONS) -> Plan:
    """Check the name, the options, the files and the registry, and render everything; ScaffoldRefused says what is wrong."""
    names = names_for(name, label)
    if options.auth not in AUTH_CHOICES:
        raise ScaffoldRefused(f"--auth must be one of {', '.join(AUTH_CHOICES)}, not {options.auth!r}.")
    layout = Layout(Path(root), names.name)
    for path in (layout.types, layout.settings):
        if not path.is_file():
            raise ScaffoldRefused(f"{path.relative_to(layout.root)} is missing: run startintegration from hi's repository.")
    types_text, settings_text = layout.types.read_text(), layout.settings.read_text()
    reason = taken(names, types_text, settings_text)
    if reason:
        raise ScaffoldRefused(reason)
    for path in (layout.package, layout.docs):
        if path.exists() or path.is_symlink():
            raise ScaffoldRefused(f"{path.relative_to(layout.root)} already exists; nothing was created.")
    gateway = f"{names.app}.gateway.{names.prefix}Gateway"
    registry = {
        layout.types: (types_text, with_member(types_text, names, description(names, options), gateway)),
        layout.settings: (settings_text, with_app(settings_text, names.app)),
    }
    return Plan(layout, names, service_files(names, options), docs_page(names, options), registry)


def _replace(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it, keeping the file's mode."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def commit(plan: Plan) -> Created:
    """Write the plan into the tree; on any failure undo what was done and raise ScaffoldRefused."""
    layout, created = plan.layout, Created(plan.names)
    undo: list[Callable[[], None]] = []
    staging = Path(tempfile.mkdtemp(prefix=f".startintegration-{layout.name}-", dir=layout.package.parent))
    try:
        for relative, text in plan.package_files.items():
            target = staging / "package" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        os.rename(staging / "package", layout.package)
        undo.append(lambda: shutil.rmtree(layout.package, ignore_errors=True))
        created.files += [str((layout.package / relative).relative_to(layout.root)) for relative in plan.package_files]
        with open(layout.docs, "x") as docs:  # exclusive: never over a page written meanwhile
            undo.append(lambda: layout.docs.unlink(missing_ok=True))
            docs.write(plan.docs_text)
        created.files.append(str(layout.docs.relative_to(layout.root)))
        for path, (before, after) in plan.registry.items():
            undo.append(lambda path=path, before=before: _replace(path, before))
            _replace(path, after)
            created.changed.append(str(path.relative_to(layout.root)))
    except BaseException as exc:  # an interrupt too: undo, then let it go on
        for step in reversed(undo):
            step()
        if isinstance(exc, OSError):
            raise ScaffoldRefused(f"Could not create {layout.name}: {exc}. Nothing was left behind.") from exc
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return created


def scaffold(root: Path, name: str, label: str = "", options: Options = DEFAULT_OPTIONS) -> Created:
    """Create and register a new service under `root`, or refuse (ScaffoldRefused) and change nothing."""
    return commit(plan(root, name, label, options))
