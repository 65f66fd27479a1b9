"""Keep secrets out of messages, logs, diagnostics and stored provider text, in every encoding they travel in."""
# A provider that echoes what it got may send a secret back literally, percent- or form-encoded, inside
# base64 (HTTP Basic's `id:secret`), JSON-escaped or HTML-escaped. `Redactor` compiles, once per set of
# secrets, one pattern matching all of those forms; `redact_text` uses it with the secrets a caller knows,
# and `redact_known` with the secrets this process has loaded (see `remember`), which is what the log
# record factory and `RedactedTextField` use, so that text entering a log or a store is redacted even
# where its writer forgot.
from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any, Callable, Iterable
from urllib.parse import quote, quote_plus

from django.db import models

REDACTED = "**REDACTED**"
#: Shorter values are not redacted: they would replace ordinary words.
MIN_LENGTH = 4
#: Values the process remembers for every text must be longer still (they apply to every workspace's text).
MIN_KNOWN_LENGTH = 8
#: Longer values (a whole JSON blob of headers, a huge token) are matched in their usual forms only, not
#: character by character: a pattern per character of thousands of characters would be slow to build and run.
MAX_PATTERN_LENGTH = 512
#: How many owners (an integration, a token) the process remembers secrets for; the oldest are forgotten first.
MAX_KNOWN_OWNERS = 2048
#: HTML escapes Django's templates (and other encoders) use for the characters they escape.
_HTML = {"&": ("&amp;",), "<": ("&lt;",), ">": ("&gt;",), '"': ("&quot;",), "'": ("&#x27;", "&#39;")}
#: JSON's two-character escapes.
_JSON_SHORT = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _hex(byte: int) -> str:
    """A pattern for one byte as two hex digits of either case."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{byte:02x}")


def _char_pattern(char: str) -> str:
    """Every textual form of one character: literal, JSON (short and \\uXXXX), percent, form and HTML escapes."""
    forms = [re.escape(char)]
    units = char.encode("utf-16-be")
    forms.append("".join(r"\\u" + _hex(units[i]) + _hex(units[i + 1]) for i in range(0, len(units), 2)))
    if char in _JSON_SHORT:
        forms.append(re.escape(_JSON_SHORT[char]))
    forms.append("".join("%" + _hex(byte) for byte in char.encode()))
    if char == " ":
        forms.append(r"\+")  # application/x-www-form-urlencoded
    forms.extend(re.escape(entity) for entity in _HTML.get(char, ()))
    forms.append(f"&#0*{ord(char)};|&#[xX]0*(?i:{ord(char):x});")
    return "(?:" + "|".join(forms) + ")"


def _base64_forms(secret: str) -> set[str]:
    """The secret in base64 (standard and URL-safe): whole, and the part that is the same wherever it sits in a larger blob."""
    # Inside a blob the secret starts at byte offset 0, 1 or 2 of a 3-byte group (e.g. after `id:` in HTTP Basic);
    # for each alignment, the characters that encode only the secret's own bits are always the same.
    raw = secret.encode()
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode()
        forms.update({whole, whole.rstrip("=")})
        for shift in range(3):
            encoded = encode(b"\0" * shift + raw + b"\0\0").decode()
            core = encoded[(8 * shift + 5) // 6:(8 * (shift + len(raw))) // 6]
            if len(core) >= MIN_LENGTH:
                forms.add(core)
    return forms


class Redactor:
    """One compiled pattern for every form of every secret of a set."""

    def __init__(self, secrets: Iterable[str], min_length: int = MIN_LENGTH) -> None:
        """Compile one pattern for the secrets long enough to redact, in each of their encodings."""
        values = sorted({s for s in secrets if isinstance(s, str) and len(s) >= min_length}, key=len, reverse=True)
        textual = ["".join(_char_pattern(c) for c in value) for value in values if len(value) <= MAX_PATTERN_LENGTH]
        encoded = set().union(*(_base64_forms(value) for value in values)) if values else set()
        for value in values:
            if len(value) > MAX_PATTERN_LENGTH:
                encoded |= {
                    value, quote(value, safe=""), quote(value), quote_plus(value), json.dumps(value)[1:-1],
                    json.dumps(value, ensure_ascii=False)[1:-1]
                }
        encoded = sorted(encoded, key=len, reverse=True)
        # Longest first: of two secrets where one contains the other, the whole longer one goes.
        alternatives = textual + [re.escape(form) for form in encoded]
        self.pattern = re.compile("|".join(alternatives)) if alternatives else None

    def __call__(self, text: str) -> str:
        """`text` with every form of every secret replaced by REDACTED."""
        if self.pattern is None or not text:
            return text
        return self.pattern.sub(REDACTED, text)


@lru_cache(maxsize=256)
def _redactor(secrets: frozenset[str]) -> Redactor:
    """The compiled redactor of a set of secrets (kept: callers pass the same few sets again and again)."""
    return Redactor(secrets)


def secret_parts(value: str) -> list[str]:
    """What a stored secret can leak as: the value, each text inside a structured one, a header value's credentials."""
    # Structured: a JSON object or list, like the webhook's extra headers; a header value: `<scheme> <credentials>`.
    parts = [value]
    try:
        data = json.loads(value) if value[:1] in "{[" else None
    except ValueError:
        data = None
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and item:
            parts.append(item)
    for part in list(parts[1:]):
        scheme, _, credentials = part.strip().partition(" ")
        if credentials and " " not in credentials.strip() and scheme.isalpha():
            parts.append(credentials.strip())  # "Bearer abc": abc may be echoed alone
    return parts


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of a known secret value in `text`, in any of its encodings."""
    if not text:
        return text
    wanted = frozenset(part for secret in secrets if secret for part in secret_parts(secret) if len(part) >= MIN_LENGTH)
    return _redactor(wanted)(text) if wanted else text


def redact_data(data: Any, secrets: Iterable[str], keys: Iterable[str] = ()) -> Any:
    """Return a copy of nested data with secret values and the values under `keys` redacted."""
    secrets = list(secrets)
    keys = {key.lower() for key in keys}
    if isinstance(data, dict):
        return {
            k: REDACTED if str(k).lower() in keys and v not in (None, "") else redact_data(v, secrets, keys)
            for k, v in data.items()
        }
    if isinstance(data, (list, tuple)):
        return [redact_data(item, secrets, keys) for item in data]
    if isinstance(data, str):
        return redact_text(data, secrets)
    return data


class _KnownSecrets:
    """The secrets this process has loaded, by owner (an integration, a token cache key), newest owners kept."""

    def __init__(self) -> None:
        """An empty store: no owner has remembered a secret yet."""
        self._by_owner: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._given: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()
        self._redactor: Redactor | None = None

    def remember(self, owner: str, values: Iterable[str]) -> None:
        """Replace what `owner` holds (its values and their parts) with `values`."""
        given = tuple(values)
        if self._given.get(owner) == given:
            return  # the usual case, on every directive: nothing new
        parts = tuple(sorted({p for v in given if v for p in secret_parts(v) if len(p) >= MIN_KNOWN_LENGTH}))
        with self._lock:
            self._given[owner] = given
            if self._by_owner.get(owner) == parts:
                return
            self._by_owner[owner] = parts
            self._by_owner.move_to_end(owner)
            while len(self._by_owner) > MAX_KNOWN_OWNERS:
                self._given.pop(self._by_owner.popitem(last=False)[0], None)
            self._redactor = None

    def forget(self) -> None:
        """Forget every secret (a new process starts like this)."""
        with self._lock:
            self._by_owner.clear()
            self._given.clear()
            self._redactor = None

    def redactor(self) -> Redactor:
        """The compiled redactor of every remembered secret (built again only after a change)."""
        redactor = self._redactor
        if redactor is None:
            with self._lock:
                values = {value for parts in self._by_owner.values() for value in parts}
                redactor = self._redactor = Redactor(values, MIN_KNOWN_LENGTH)
        return redactor


_known = _KnownSecrets()


def remember(owner: str, values: Iterable[str]) -> None:
    """Tell the process which secrets `owner` holds now, so that logs and stores redact them."""
    _known.remember(owner, values)


def forget_known() -> None:
    """Forget every remembered secret (tests; a new process starts like this)."""
    _known.forget()


def redact_known(text: str) -> str:
    """`text` with every secret this process has loaded replaced, in any encoding."""
    if not text or not isinstance(text, str):
        return text
    return _known.redactor()(text)


class RedactedTextField(models.TextField):
    """A TextField for text that may come from a provider: secrets the process knows are redacted on the way in."""
    # Stored like a TextField (its migrations say TextField), so turning a column into one needs no migration.

    def get_prep_value(self, value: Any) -> Any:
        """Redact before saving, creating or updating (queryset.update() too)."""
        value = super().get_prep_value(value)
        return redact_known(value) if isinstance(value, str) else value

    def deconstruct(self) -> tuple[str, str, list, dict]:
        """Migrations see a plain TextField."""
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs


def _redacting_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """A log record factory that redacts remembered secrets from the message and the traceback."""

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        """Make the record as before, then redact its message and traceback."""
        record = previous(*args, **kwargs)
        redactor = _known.redactor()
        if redactor.pattern is None:
            return record
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logging's to report, not ours
            return record
        clean = redactor(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            trace = logging.Formatter().formatException(record.exc_info)
            clean = redactor(trace)
            if clean != trace:
                # Formatters use exc_text when it is set, rather than formatting exc_info again.
                record.exc_text = clean
        return record

    make.hi_redacting = True  # type: ignore[attr-defined]
    return make


def install_log_redaction() -> None:
    """Make every log record of this process (whatever its logger or handler) redact remembered secrets."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "hi_redacting", False):
        logging.setLogRecordFactory(_redacting_factory(current))
