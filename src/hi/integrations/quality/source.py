"""Reading a service's source without running it: its files by area, their syntax trees, imports, calls and constants."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .standards import NOT_PRODUCTION

#: The front door, where publish() and enqueue() come from.
FRONT_DOOR = "hi.integrations.api"


@dataclass(frozen=True)
class SourceFile:
    """One Python file of a service: where it is, in which area, and its text."""

    path: Path
    #: The path from the app's folder, with forward slashes ("simulator/control.py").
    relative: str
    #: The app's dotted name ('hi.services.demo').
    app: str

    @property
    def area(self) -> str:
        """'simulator', 'tests', 'migrations' (by its first folder), else 'production'."""
        first = self.relative.split("/")[0]
        return first if first in NOT_PRODUCTION and "/" in self.relative else "production"

    @cached_property
    def text(self) -> str:
        """The file's text."""
        return self.path.read_text(encoding="utf-8")

    @cached_property
    def tree(self) -> ast.Module:
        """The file's syntax tree."""
        return ast.parse(self.text, filename=str(self.path))

    @property
    def lines(self) -> int:
        """How many lines the file has."""
        return len(self.text.splitlines())

    @property
    def package(self) -> str:
        """The dotted package the module is in (its own name for an __init__.py)."""
        parts = [*self.app.split("."), *self.relative.split("/")[:-1]]
        return ".".join(parts)

    def absolute(self, node: ast.ImportFrom) -> str:
        """The module an `from … import` names, relative imports resolved."""
        if not node.level:
            return node.module or ""
        base = self.package.split(".")
        base = base[: len(base) - node.level + 1]
        return ".".join([*base, *([node.module] if node.module else [])])

    def imported_from(self, module: str) -> dict[str, str]:
        """Local names bound by importing from `module` or below it: {local name: what it names ('module.attr')}."""
        names = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom):
                source = self.absolute(node)
                if source == module or source.startswith(module + "."):
                    names.update({alias.asname or alias.name: f"{source}.{alias.name}" for alias in node.names})
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == module or alias.name.startswith(module + "."):
                        names[alias.asname or alias.name.split(".")[0]] = alias.name
        return names

    def imported_modules(self) -> list[tuple[str, int]]:
        """Every module the file imports, with its line: `import a.b` gives a.b, `from a import b` gives a and a.b."""
        found = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                found += [(alias.name, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = self.absolute(node)
                found.append((source, node.lineno))
                found += [(f"{source}.{alias.name}", node.lineno) for alias in node.names]
            elif isinstance(node, ast.Call) and call_name(node) in ("import_module", "__import__") and node.args:
                value = literal(node.args[0])
                if value:
                    found.append((value, node.lineno))
        return found

    def calls_to(self, function: str, module: str = FRONT_DOOR) -> list[ast.Call]:
        """Calls of `module.function` by any local name the file imported it under."""
        names = {local for local, target in self.imported_from(module).items() if target == f"{module}.{function}"}
        return [node for node in ast.walk(self.tree)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names]

    def constants(self) -> dict[str, str]:
        """The module's top-level `NAME = "text"` constants."""
        found = {}
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                value = literal(node.value)
                if value is not None:
                    found[node.targets[0].id] = value
        return found

    def subclasses(self, base: str, modules: tuple[str, ...]) -> list[ast.ClassDef]:
        """Classes of the file with `base` among their bases, `base` imported from one of `modules`."""
        names = {local for module in modules for local, target in self.imported_from(module).items()
                 if target == f"{module}.{base}"}
        return [node for node in ast.walk(self.tree) if isinstance(node, ast.ClassDef)
                and any(isinstance(b, ast.Name) and b.id in names for b in node.bases)]


def literal(node: ast.AST) -> str | None:
    """The text of a string literal node (None for anything else)."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def call_name(node: ast.Call) -> str:
    """The called function's own name (`f` for f(), a.b.f())."""
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def argument(node: ast.Call, position: int, keyword: str) -> ast.AST | None:
    """A call's argument by position or keyword (None when not given)."""
    if len(node.args) > position:
        return node.args[position]
    return next((kw.value for kw in node.keywords if kw.arg == keyword), None)


def source_files(app_dir: Path, app: str) -> list[SourceFile]:
    """Every Python file of the app, sorted by path."""
    return [SourceFile(path, path.relative_to(app_dir).as_posix(), app) for path in sorted(app_dir.rglob("*.py"))
            if "__pycache__" not in path.parts]


def production_lines(app_dir: Path, app: str) -> int:
    """Lines of the app's production Python: everything but simulator/, tests/ and migrations/."""
    return sum(source.lines for source in source_files(app_dir, app) if source.area == "production")


class TextResolver:
    """Reads the text a call passes: a literal, a module constant, or a constant imported from a sibling module."""

    def __init__(self, files: list[SourceFile]) -> None:
        """Index the files by their module's dotted name."""
        self.by_module = {f"{source.package}.{Path(source.relative).stem}" if not source.relative.endswith("__init__.py")
                          else source.package: source for source in files}

    def text(self, node: ast.AST | None, source: SourceFile) -> str | None:
        """The text `node` stands for in `source` (None when it cannot be read without running the code)."""
        if node is None:
            return None
        value = literal(node)
        if value is not None or not isinstance(node, ast.Name):
            return value
        if node.id in source.constants():
            return source.constants()[node.id]
        for local, target in source.imported_from(source.app).items():
            module, _, name = target.rpartition(".")
            if local == node.id and module in self.by_module:
                return self.by_module[module].constants().get(name)
        return None
