"""The simulated customer's side: inbound messages of every kind WhatsApp delivers, with sample media."""
from __future__ import annotations

import struct
import zlib
from typing import Any, Callable

#: Kinds whose message carries a media object (`id`, `mime_type`, `sha256`) the media endpoints serve.
MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")
#: Every kind WhatsApp documents; any other kind string makes a message of that (unknown) type.
KNOWN_KINDS = ("text", *MEDIA_KINDS, "location", "contacts", "interactive", "button", "reaction", "unsupported")
#: Extras a builder consumes; any other keyword goes into the message object as given (odd fields on purpose).
CONSUMED = {"data", "mime_type", "filename", "voice", "animated", "latitude", "longitude", "address", "phone",
            "reply_type", "reply_id", "description", "payload", "message_id", "context_id"}

#: Names the simulated customers of sends to unknown numbers go by.
CUSTOMER_NAMES = ("Maria Silva", "João Pereira", "Ana Conceição", "José Araújo", "Luíza Gonçalves", "Pedro Ângelo")


def png(width: int = 4, height: int = 4, rgb: tuple[int, int, int] = (37, 211, 102)) -> bytes:
    """A real (tiny, one-colour) PNG image."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        """One PNG chunk: length, tag, data and CRC."""
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def sample_media(kind: str) -> tuple[bytes, str]:
    """Bytes and MIME type for a media kind (the image is a real PNG; the others only start like their format)."""
    if kind == "image":
        return png(), "image/png"
    if kind == "audio":
        return b"OggS\x00\x02" + b"\x00" * 20 + b"OpusHead" + b"\x00" * 64, "audio/ogg; codecs=opus"
    if kind == "video":
        return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 96, "video/mp4"
    if kind == "document":
        return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
                b"trailer<</Root 1 0 R>>\n%%EOF\n"), "application/pdf"
    return b"RIFF\x24\x00\x00\x00WEBPVP8L" + b"\x00" * 24, "image/webp"


def build_message(kind: str, text: str, *, wa_id: str, wamid: str, timestamp: int, business_number: str,
                  store_media: Callable[[bytes, str], tuple[str, str]], last_sent_id: str | None,
                  extra: dict[str, Any]) -> dict[str, Any]:
    """An inbound `messages[]` element of `kind` from `wa_id`; `store_media(data, mime)` returns (media id, sha256)."""
    message: dict[str, Any] = {"from": wa_id, "id": wamid, "timestamp": str(timestamp), "type": kind}
    if kind == "text":
        message["text"] = {"body": text}
    elif kind in MEDIA_KINDS:
        data, mime = sample_media(kind)
        data, mime = extra.get("data", data), extra.get("mime_type", mime)
        media_id, sha256 = store_media(data, mime)
        media: dict[str, Any] = {"mime_type": mime, "sha256": sha256, "id": media_id}
        if kind in ("image", "video", "document") and text:
            media["caption"] = text
        if kind == "document":
            media["filename"] = extra.get("filename", "cardapio.pdf")
        if kind == "audio":
            media["voice"] = bool(extra.get("voice", True))
        if kind == "sticker":
            media["animated"] = bool(extra.get("animated", False))
        message[kind] = media
    elif kind == "location":
        message["location"] = {"latitude": extra.get("latitude", -23.561414), "longitude": extra.get("longitude", -46.655881),
                               "name": text, "address": extra.get("address", "Av. Paulista, 1578 - Bela Vista, São Paulo")}
    elif kind == "contacts":
        phone = str(extra.get("phone", "+55 11 98765-4321"))
        digits = "".join(c for c in phone if c.isdigit())
        first, _, last = text.partition(" ")
        message["contacts"] = [{"name": {"formatted_name": text, "first_name": first, **({"last_name": last} if last else {})},
                                "phones": [{"phone": phone, "wa_id": digits, "type": "CELL"}]}]
    elif kind == "interactive":
        reply_type = str(extra.get("reply_type", "button_reply"))
        reply = {"id": str(extra.get("reply_id", "confirm")), "title": text}
        if reply_type == "list_reply":
            reply["description"] = str(extra.get("description", ""))
        message["interactive"] = {"type": reply_type, reply_type: reply}
    elif kind == "button":
        message["button"] = {"payload": str(extra.get("payload", text)), "text": text}
    elif kind == "reaction":
        message["reaction"] = {"message_id": extra.get("message_id", last_sent_id or ""), "emoji": text or "\U0001F44D"}
    elif kind == "unsupported":
        message["errors"] = [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                              "error_data": {"details": "Message type is currently not supported."}}]
    else:
        # A type this simulator (and perhaps hi) has never heard of: Meta adds types over time.
        message[kind] = {"body": text}
    context_id = extra.get("context_id", last_sent_id if kind in ("interactive", "button") else None)
    if context_id:
        message["context"] = {"from": business_number, "id": context_id}
    message.update({key: value for key, value in extra.items() if key not in CONSUMED})
    return message
