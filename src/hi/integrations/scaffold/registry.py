"""Registering a new service where it is named: the IntegrationType enum and INSTALLED_APPS, edited as text and verified by parsing."""
# The files are edited, not regenerated: a developer's formatting and comments stay as they are. Each
# edit parses the file first (to find where the new line goes and that it is not there yet), inserts
# one block of text, and parses the result again to prove it now says exactly one thing more. A file
# whose shape the editor does not recognise is refused with what it looked for, and nothing is written.
from __future__ import annotations

import ast

from ..core.errors import ScaffoldRefused
from .names import Names

ENUM = "IntegrationType"
APPS = "INSTALLED_APPS"


def _enum_class(tree: ast.Module, where: str) -> ast.ClassDef:
    """The IntegrationType class of a parsed types.py."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == ENUM:
            return node
    raise ScaffoldRefused(f"{where}: no `class {ENUM}` at the top level; cannot register the service.")


def _parse(text: str, where: str) -> ast.Module:
    """The file's syntax tree, or a refusal naming the file."""
    try:
        return ast.parse(text)
    except SyntaxError as exc:
        raise ScaffoldRefused(f"{where} does not parse ({exc.msg}, line {exc.lineno}); fix it first.") from None


def members(text: str, where: str = "types.py") -> dict[str, tuple]:
    """The enum's members: {member name: its literal tuple}."""
    found: dict[str, tuple] = {}
    for node in _enum_class(_parse(text, where), where).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if isinstance(value, tuple) and len(value) == 5:
                found[node.targets[0].id] = value
    return found


def installed_apps(text: str, where: str = "settings.py") -> list[str]:
    """The literal INSTALLED_APPS list of a settings module."""
    return list(ast.literal_eval(_apps_list(_parse(text, where), where)))


def _apps_list(tree: ast.Module, where: str) -> ast.List:
    """The `INSTALLED_APPS = [...]` list literal."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == APPS for t in node.targets):
            if isinstance(node.value, ast.List) and node.value.elts and all(isinstance(e, ast.Constant) for e in node.value.elts):
                return node.value
            raise ScaffoldRefused(f"{where}: {APPS} is not a literal list of strings; add the app by hand.")
    raise ScaffoldRefused(f"{where}: no `{APPS} = [...]` at the top level; cannot register the app.")


def taken(names: Names, types_text: str, settings_text: str) -> str:
    """Why the name is already used in the registry or the settings ('' when it is free)."""
    for member, value in members(types_text).items():
        if member == names.member or value[0] == names.name:
            return f"{names.name!r} is taken: IntegrationType.{member} already has that name."
        if value[4] == names.app:
            return f"{names.name!r} is taken: IntegrationType.{member} already uses the app {names.app}."
    for app in installed_apps(settings_text):
        if app == names.app or app.rpartition(".")[2] == names.name:
            return f"{names.name!r} is taken: the app {app!r} in {APPS} has that label."
    return ""


def _lines_with(text: str, after_line: int, block: str) -> str:
    """`text` with `block` inserted after its line number `after_line` (1-based)."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return "".join(lines[:after_line] + [block] + lines[after_line:])


def with_member(types_text: str, names: Names, description: str, gateway_path: str) -> str:
    """types.py with the new member after the last one, verified by parsing the result."""
    enum = _enum_class(_parse(types_text, "types.py"), "types.py")
    assigns = [n for n in enum.body if isinstance(n, ast.Assign)]
    if not assigns:
        raise ScaffoldRefused(f"types.py: {ENUM} has no member to add the new one after; cannot register the service.")
    indent = " " * assigns[-1].col_offset
    value = (names.name, names.label, description, gateway_path, names.app)
    block = f"{indent}{names.member} = (\n" + "".join(f"{indent}    {_quoted(v)},\n" for v in value) + f"{indent})\n"
    result = _lines_with(types_text, assigns[-1].end_lineno or assigns[-1].lineno, block)
    before, after = members(types_text), members(result)
    if after != {**before, names.member: value}:
        raise ScaffoldRefused("types.py: adding the member did not give the expected enum; register the service by hand.")
    return result


def with_app(settings_text: str, app: str) -> str:
    """settings.py with `app` last in INSTALLED_APPS, verified by parsing the result."""
    apps = _apps_list(_parse(settings_text, "settings.py"), "settings.py")
    last = apps.elts[-1]
    if last.end_lineno == apps.end_lineno:
        raise ScaffoldRefused(f"settings.py: {APPS} is not one entry per line; add {app!r} by hand.")
    block = " " * last.col_offset + f"{_quoted(app)},\n"
    lines = settings_text.splitlines(keepends=True)
    # After the last entry's line, whose entry is followed by its comma (or gets one, before any comment).
    row = last.end_lineno or last.lineno
    line = lines[row - 1].encode()
    end = last.end_col_offset or 0  # in UTF-8 bytes, as ast counts
    if not line[end:].lstrip().startswith(b","):
        lines[row - 1] = (line[:end] + b"," + line[end:]).decode()
    result = _lines_with("".join(lines), row, block)
    if installed_apps(result) != [*installed_apps(settings_text), app]:
        raise ScaffoldRefused(f"settings.py: adding the app did not give the expected {APPS}; add {app!r} by hand.")
    return result


def _quoted(value: str) -> str:
    """A double-quoted Python string literal, as the project writes them."""
    literal = repr(value)
    if literal.startswith("'") and '"' not in value:
        literal = '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal
