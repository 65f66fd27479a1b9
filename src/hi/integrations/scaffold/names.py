"""What a new service is called, checked before anything is written: the id, the label and the names derived from them."""
from __future__ import annotations

import importlib.util
import keyword
import re
import sys
from dataclasses import dataclass

from ..core.errors import ScaffoldRefused

#: A service's name is its app's package, its app label and its type id: lower-case, a letter first.
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: `Integration.integration_type` is a 32-character column; the enum member is the name in capitals.
MAX_NAME = 32
MAX_LABEL = 40
#: The label lands in Python strings, HTML, Markdown and Django templates as typed: these characters would need escaping there.
LABEL_FORBIDDEN = re.compile(r"[\"\\{}<>%`|\x00-\x1f\x7f]")
#: The ways a provider authenticates hi that the scaffold knows.
AUTH_CHOICES = ("api-key", "oauth-client-credentials", "none")


@dataclass(frozen=True)
class Names:
    """A new service's names: `name` (package, app label, type id), `label`, `member` (enum), `prefix` (classes)."""

    name: str
    label: str
    member: str
    prefix: str

    @property
    def app(self) -> str:
        """The app module: the INSTALLED_APPS entry."""
        return f"hi.services.{self.name}"


def class_prefix(name: str) -> str:
    """The CamelCase stem of the service's classes: airtime → Airtime, my_shop → MyShop."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def check_name(name: str) -> None:
    """Refuse a name that is not a safe, lower-case identifier of its own (ScaffoldRefused says why)."""
    if not NAME.match(name or ""):
        raise ScaffoldRefused(f"{name!r} is not a valid name: use lower-case letters, digits and underscores, "
                              "starting with a letter (e.g. airtime).")
    if len(name) > MAX_NAME:
        raise ScaffoldRefused(f"{name!r} is too long: a type id has at most {MAX_NAME} characters.")
    if "__" in name or name.endswith("_"):
        raise ScaffoldRefused(f"{name!r} is not a valid name: no double or trailing underscore (the class names are made from its parts).")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ScaffoldRefused(f"{name!r} is a Python keyword; choose another name.")
    if name in sys.stdlib_module_names:
        raise ScaffoldRefused(f"{name!r} is the name of a Python standard-library module; choose another name.")
    # A top-level package of that name (django, requests, hi itself) would be shadowed by, or confused with, the app.
    if importlib.util.find_spec(name) is not None:
        raise ScaffoldRefused(f"{name!r} is the name of an installed Python package; choose another name.")


def check_label(label: str) -> str:
    """The label, stripped; refused when empty, too long, or holding characters that would need escaping."""
    label = (label or "").strip()
    if not label:
        raise ScaffoldRefused("The label is empty; give the provider's human name with --label.")
    if len(label) > MAX_LABEL:
        raise ScaffoldRefused(f"The label has more than {MAX_LABEL} characters.")
    if LABEL_FORBIDDEN.search(label):
        raise ScaffoldRefused('The label may not contain quotes, backslashes, braces, <, >, %, `, | or control characters.')
    return label


def names_for(name: str, label: str = "") -> Names:
    """The checked names of a new service (the label defaults to the name in title case)."""
    check_name(name)
    label = check_label(label or name.replace("_", " ").title())
    return Names(name=name, label=label, member=name.upper(), prefix=class_prefix(name))
