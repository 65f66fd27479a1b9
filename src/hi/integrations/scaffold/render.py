"""Rendering a new service's files from the scaffold's templates (files/*-tpl), with Django's template engine used standalone."""
# The templates are runtime data, not modules: their `-tpl` suffix keeps them out of Python's imports,
# import-linter and pytest's collection. A line holding only a template tag disappears whole (as Jinja's
# trim_blocks and lstrip_blocks do), so an `{% if %}` around optional code leaves no blank line behind.
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from django.template import Context, Engine

from ..core.errors import ScaffoldRefused
from .names import Names

FILES = Path(__file__).resolve().parent / "files"
TAG_LINE = re.compile(r"^[ \t]*(\{%[^\n]*?%\}|\{#[^\n]*?#\})[ \t]*\n", re.M)
#: What an undefined variable renders as; its presence in the output is a bug of the scaffold.
UNDEFINED = "@@UNDEFINED@@"
ENGINE = Engine(autoescape=False, string_if_invalid=UNDEFINED)


@dataclass(frozen=True)
class Options:
    """What the new service does beyond connecting: how it authenticates, and its optional parts."""

    auth: str = "api-key"
    inbound: bool = False
    orders: bool = False
    poll: bool = False


#: (template under files/, where it goes in the service's package, the option it needs or "").
SERVICE_FILES = (
    ("__init__.py-tpl", "__init__.py", ""),
    ("apps.py-tpl", "apps.py", ""),
    ("attributes.py-tpl", "attributes.py", ""),
    ("client.py-tpl", "client.py", ""),
    ("gateway.py-tpl", "gateway.py", ""),
    ("pane.py-tpl", "pane.py", ""),
    ("pane.html-tpl", "templates/{name}/pane.html", ""),
    ("logo.svg-tpl", "static/{name}/logo.svg", ""),
    ("simulator.py-tpl", "simulator/__init__.py", ""),
    ("tests_init.py-tpl", "tests/__init__.py", ""),
    ("test_contract.py-tpl", "tests/test_contract.py", ""),
    ("test_service.py-tpl", "tests/test_{name}.py", ""),
    ("inbound.py-tpl", "inbound.py", "inbound"),
    ("actions.py-tpl", "actions.py", "orders"),
    ("handlers.py-tpl", "handlers.py", "orders"),
    ("jobs.py-tpl", "jobs.py", "poll"),
)
DOCS_TEMPLATE = "docs-page.markdown-tpl"


def context(names: Names, options: Options) -> dict[str, object]:
    """The templates' variables."""
    return {
        "name": names.name, "label": names.label, "label_s": possessive(names.label), "member": names.member, "prefix": names.prefix,
        "app": names.app,
        "auth": options.auth, "api_key": options.auth == "api-key", "oauth": options.auth == "oauth-client-credentials",
        "no_auth": options.auth == "none", "inbound": options.inbound, "orders": options.orders, "poll": options.poll,
        "description": description(names, options),
    }


def possessive(label: str) -> str:
    """The label with its possessive: "Acme's", "Airtime vouchers'"."""
    return f"{label}'" if label.endswith("s") else f"{label}'s"


def description(names: Names, options: Options) -> str:
    """The IntegrationType member's one-line description, shown on the console's catalog."""
    parts = [f"Connect hi to {names.label}"]
    if options.orders:
        parts.append("act on its orders")
    if options.inbound:
        parts.append("receive its signed webhooks")
    if options.poll:
        parts.append("check the account on a schedule")
    return (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]) + "."


def render(template: str, variables: dict[str, object]) -> str:
    """One template rendered, its tag-only lines gone, trailing spaces stripped, at most two blank lines in a row."""
    source = TAG_LINE.sub(r"\1", (FILES / template).read_text())
    text = ENGINE.from_string(source).render(Context(variables, autoescape=False))
    text = "\n".join(line.rstrip() for line in text.splitlines())
    text = re.sub(r"\n{4,}", "\n\n\n", text).strip("\n") + "\n"
    if UNDEFINED in text:
        raise ScaffoldRefused(f"The scaffold's template {template} uses an undefined variable; nothing was written.")
    return text


def service_files(names: Names, options: Options) -> dict[str, str]:
    """The new service's package: {path inside it: text}, only the files its options need; every module parses."""
    variables = context(names, options)
    files: dict[str, str] = {}
    for template, target, needs in SERVICE_FILES:
        if needs and not variables[needs]:
            continue
        path = target.format(name=names.name)
        files[path] = render(template, variables)
        if path.endswith(".py"):
            try:
                ast.parse(files[path])
            except SyntaxError as exc:
                raise ScaffoldRefused(
                    f"The scaffold produced invalid Python in {path} ({exc.msg}, line {exc.lineno}); nothing was written.") from None
    return files


def docs_page(names: Names, options: Options) -> str:
    """The service's page for operators, docs/services/<name>.md, with the required sections."""
    return render(DOCS_TEMPLATE, context(names, options))
