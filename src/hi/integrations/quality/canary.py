"""Canary secrets for leak checks: a provider's echo of a secret in every encoding, a detector that decodes text, the database's text."""
# The detector decodes (percent, form, JSON, HTML, base64 at every alignment) rather than encoding the secret
# the way the redaction does, so that a test does not check hi's redaction against itself.
from __future__ import annotations

import base64
import binascii
import html
import json
import re
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlencode

from django.db import connection

#: A secret with the characters encodings treat differently: + / = & (form, percent, base64, JSON).
CANARY = "CANARY+RT/echo=99&x"
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{6,}={0,2}")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\([\"\\/])")


def _dotnet_json(secret: str) -> str:
    """JSON as .NET's default encoder writes it: + & < > ' " as \\u00XX (upper case), the rest literal."""
    return "".join(f"\\u{ord(c):04X}" if c in "+&<>'\"" else c for c in secret)


def encodings(secret: str, user: str = "hi-client") -> dict[str, str]:
    """The forms an echoing provider may send `secret` back in, by name."""
    raw = secret.encode()
    forms = {
        "literal": secret,
        "percent": quote(secret, safe=""),
        "percent-path": quote(secret),
        "percent-lower": re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(secret, safe="")),
        "form": urlencode({"clientSecret": secret}),
        "quote-plus": quote_plus(secret),
        "json": json.dumps(secret),
        "json-slash": json.dumps(secret).replace("/", "\\/"),
        "json-dotnet": _dotnet_json(secret),
        "json-all-u": "".join(f"\\u{ord(c):04x}" for c in secret),
        "html": html.escape(secret),
        "base64": base64.b64encode(raw).decode(),
        "base64-url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    # HTTP Basic and other blobs: the secret at each of the three alignments of base64's 3-byte groups.
    for pad in range(3):
        prefix = (user + "x" * pad + ":").encode()
        forms[f"basic-{pad}"] = "Basic " + base64.b64encode(prefix + raw).decode()
        forms[f"blob-url-{pad}"] = base64.urlsafe_b64encode(prefix + raw + b"|tail").decode()
    return forms


def echo_body(secrets: list[str]) -> str:
    """A provider answer that repeats each secret in every encoding."""
    lines = [f"{name}: {form}" for secret in secrets for name, form in encodings(secret).items()]
    return "you sent:\n" + "\n".join(lines) + "\n"


def _base64_decodings(text: str) -> list[bytes]:
    """Every base64 (standard or URL-safe) run of `text` decoded from each of its four starting offsets."""
    decoded = []
    for run in _BASE64_RUN.findall(text):
        run = run.rstrip("=").replace("-", "+").replace("_", "/")
        for start in range(4):
            chunk = run[start:]
            chunk = chunk[:-1] if len(chunk) % 4 == 1 else chunk  # one stray character holds no whole byte
            chunk += "=" * (-len(chunk) % 4)
            try:
                decoded.append(base64.b64decode(chunk))
            except (binascii.Error, ValueError):
                continue
    return decoded


def _json_unescape(text: str) -> str:
    """`text` with JSON's \\uXXXX, \\/, \\" and \\\\ escapes resolved."""
    return _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), text)


def leaks(text: str, secret: str) -> list[str]:
    """How `secret` can be read out of `text` (empty when it cannot): each decoding that reveals it."""
    found = []
    views = {
        "literal": text,
        "percent": unquote(text),
        "form": unquote_plus(text),
        "json": _json_unescape(text),
        "html": html.unescape(text),
    }
    found += [name for name, view in views.items() if secret in view]
    if any(secret.encode() in blob for blob in _base64_decodings(text)):
        found.append("base64")
    return found


def all_database_text() -> str:
    """Every value of every table, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)
