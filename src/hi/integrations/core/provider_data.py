"""Provider data at hi's boundary: JSON parsed with bounded nesting, and text every database can store."""
# Two rules, in one place, for every service:
# - A provider's JSON is parsed by loads(): absurd nesting, NaN/Infinity literals and numbers that
#   overflow a float are a ProviderDataError (a ValueError) with a readable message, never a
#   RecursionError traceback or an `inf` stored later.
# - Text from a provider is stored through clean_text()/clean_json(): PostgreSQL refuses NUL
#   characters, and a lone UTF-16 surrogate (a "\ud800" JSON escape) cannot be encoded as UTF-8, so
#   either one made whole batches fail to store. Both become visible escapes (\x00, \ud800), the
#   way undecodable bytes of a raw body are shown (\xNN). Identity values (event ids) must be clean
#   as received: is_clean_text() tells, and callers refuse the item rather than alter its identity.
from __future__ import annotations

import json
import math
import re
from typing import Any, Callable

from .errors import ProviderDataError

#: The deepest nesting of objects and arrays hi reads from a provider; real payloads stay under ten.
MAX_DEPTH = 32

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    """The visible escape of one NUL or lone surrogate."""
    char = match.group()
    return "\\x00" if char == "\x00" else f"\\u{ord(char):04x}"


def clean_text(value: Any, limit: int | None = None) -> str:
    """`value` as text any database stores: NUL and lone surrogates escaped, cut at `limit` characters."""
    text = value if isinstance(value, str) else str(value)
    if _UNSAFE.search(text):
        text = _UNSAFE.sub(_escape, text)
    return text if limit is None else text[:limit]


def is_clean_text(text: str) -> bool:
    """Whether `text` can be stored exactly as given (no NUL, no lone surrogate)."""
    return not _UNSAFE.search(text)


def clean_json(value: Any, max_depth: int = MAX_DEPTH) -> Any:
    """A copy of parsed JSON data safe for a JSON column: strings cleaned, NaN/Infinity as null, tuples as lists."""
    return _clean(value, max_depth, max_depth)


def _clean(value: Any, depth_left: int, max_depth: int) -> Any:
    """clean_json's recursion, bounded by `depth_left` more containers."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dict, list, tuple)):
        if depth_left <= 0:
            raise ProviderDataError(f"nested deeper than {max_depth} levels")
        if isinstance(value, dict):
            return {clean_text(key): _clean(item, depth_left - 1, max_depth) for key, item in value.items()}
        return [_clean(item, depth_left - 1, max_depth) for item in value]
    return value


def _refuse_constant(name: str) -> Any:
    """json's hook for NaN, Infinity and -Infinity: they are not JSON."""
    raise ProviderDataError(f"not JSON: {name} is not a JSON number")


def _finite_float(text: str) -> float:
    """A JSON number as a float; one too large for a float (1e400) is refused instead of becoming inf."""
    number = float(text)
    if not math.isfinite(number):
        raise ProviderDataError(f"the number {text[:40]} is out of range")
    return number


def check_depth(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Refuse parsed data nested deeper than `max_depth` objects and arrays (iteratively: no recursion)."""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise ProviderDataError(f"nested deeper than {max_depth} levels")
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def loads(data: bytes | str, *, parse_float: Callable[[str], Any] | None = None, max_depth: int | None = MAX_DEPTH) -> Any:
    """Parse a provider's JSON; ProviderDataError for anything hi will not read (a ValueError)."""
    # A batch's envelope passes max_depth=None: each item's depth is then checked on its own
    # (batches.store_batch), so one deep item fails alone instead of refusing the whole batch.
    try:
        value = json.loads(data, parse_float=parse_float or _finite_float, parse_constant=_refuse_constant)
    except RecursionError:
        # The C parser stops at the interpreter's recursion limit (~1,000 levels): far past ours.
        raise ProviderDataError(f"nested deeper than {max_depth or MAX_DEPTH} levels") from None
    except ProviderDataError:
        raise
    except ValueError as exc:  # JSONDecodeError, undecodable bytes, an integer of over 4,300 digits
        raise ProviderDataError(f"not JSON: {exc}") from None
    if max_depth is not None:
        check_depth(value, max_depth)
    return value
