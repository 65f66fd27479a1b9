"""The checks on what operators read: the service's docs page and its sections, and its templates' translatable text."""
from __future__ import annotations

import html
import re
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.template.base import Lexer, TokenType

from ..core.errors import RuleNotApplicable
from .model import Subject
from .standards import ATTRIBUTES_SECTION, DOC_SECTIONS, DocSection, docs_page

FENCE = re.compile(r"^```.*?^```[^\n]*$", re.S | re.M)
HEADING = re.compile(r"^## +(.+?)\s*$", re.M)
#: Words of a language: a run of letters (the rest is markup, numbers and punctuation).
WORD = re.compile(r"[^\W\d_]{2,}")
#: The attributes a visitor reads or hears.
SHOWN_ATTRIBUTES = re.compile(r"""\b(title|placeholder|alt|aria-label|aria-description)\s*=\s*(["'])(.*?)\2""", re.S | re.I)
TAG = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)
#: What a template tag's content leaves in the reconstructed text: a mark no visitor reads.
MARK = "\x00"


def sections(markdown: str) -> list[tuple[str, str]]:
    """The page's `## ` sections, (heading, body), code blocks left out of the search."""
    text = FENCE.sub("", markdown)
    found = list(HEADING.finditer(text))
    return [(match.group(1), text[match.end(): found[i + 1].start() if i + 1 < len(found) else len(text)])
            for i, match in enumerate(found)]


def normal(heading: str) -> str:
    """A heading as compared: lower case, no backticks, no punctuation at its ends."""
    return heading.replace("`", "").strip().strip(".:,;").lower()


def section_of(page: list[tuple[str, str]], wanted: DocSection) -> tuple[str, str] | None:
    """The page's section accepted for `wanted` (the first), or None."""
    return next(((heading, body) for heading, body in page if normal(heading).startswith(wanted.accepted)), None)


def check_docs_page(subject: Subject) -> list[str]:
    """docs/services/<type id>.md exists, has each required section, and names every attribute key under the set-up one."""
    relative = docs_page(subject.type_id)
    if not subject.docs_page.is_file():
        return [f"{relative} is missing: write the operator's page with the sections "
                + ", ".join(f"'## {section.heading}'" for section in DOC_SECTIONS)]
    page = sections(subject.docs_page.read_text(encoding="utf-8"))
    problems = [f"{relative} has no '## {section.heading}' section ({section.holds})"
                for section in DOC_SECTIONS if section_of(page, section) is None]
    found = section_of(page, ATTRIBUTES_SECTION)
    where = f"'## {found[0]}'" if found else "the page"
    text = found[1] if found else "".join(body for _, body in page)
    for spec in subject.gateway.attribute_type.specs() if subject.gateway.attribute_type else []:
        if f"`{spec.key}`" not in text:
            problems.append(f"{relative} does not document the attribute `{spec.key}` ({spec.label}) under {where}")
    return problems


def translated() -> bool:
    """Whether the console has translations: a LOCALE_PATHS folder, or a locale/ folder in one of hi's apps."""
    folders = [Path(path) for path in settings.LOCALE_PATHS]
    # Django's own apps ship translations of their own: only hi's count.
    folders += [Path(config.path) / "locale" for config in apps.get_app_configs() if config.name.split(".")[0] == "hi"]
    return any(folder.is_dir() and any(folder.iterdir()) for folder in folders)


def untranslated(template: str) -> list[tuple[int, str]]:
    """Text of a Django template a visitor reads that is outside {% translate %} and {% blocktranslate %}: (line, text)."""
    pieces, skipping = [], ""
    for token in Lexer(template).tokenize():
        newlines = "\n" * token.contents.count("\n")
        if token.token_type is TokenType.BLOCK:
            name = token.contents.split(" ", 1)[0]
            if name in ("blocktrans", "blocktranslate", "comment") and not skipping:
                skipping = "end" + name
            elif name == skipping:
                skipping = ""
        if token.token_type is TokenType.TEXT and not skipping:
            pieces.append(token.contents)
        else:
            # Template code and translated text are no visitor's untranslated words; its lines still count.
            pieces.append(MARK + newlines)
    text = "".join(pieces)
    found = []
    for match in SHOWN_ATTRIBUTES.finditer(text):
        value = match.group(3)
        if WORD.search(value.replace(MARK, " ")):
            found.append((text.count("\n", 0, match.start()) + 1, f'{match.group(1)}="{value.replace(MARK, "…")}"'))
    # A tag separates the text around it ("</td><a>Open" is not one word with what came before).
    stripped = TAG.sub(lambda m: MARK + "\n" * m.group(0).count("\n"), text)
    for number, line in enumerate(stripped.split("\n"), start=1):
        for chunk in line.split(MARK):
            chunk = html.unescape(chunk).strip()
            if WORD.search(chunk):
                found.append((number, chunk))
    return sorted(found)


def check_templates_translatable(subject: Subject) -> list[str]:
    """Every user-facing string of the service's templates is marked for translation (once the console is translated)."""
    if not translated():
        raise RuleNotApplicable("not applicable: the console is not translated yet")
    problems = []
    for path in sorted((subject.app_dir / "templates").rglob("*.html")):
        relative = path.relative_to(subject.app_dir).as_posix()
        problems += [f"{relative}:{line} {text!r} is not translatable: wrap it in {{% translate %}} or {{% blocktranslate %}}"
                     for line, text in untranslated(path.read_text(encoding="utf-8"))]
    return problems
