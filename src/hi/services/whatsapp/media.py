"""A received message's media, fetched on demand for the operator: the id resolved to a URL, the file streamed, capped."""
# Meta keeps a customer's media for a limited time and hands out short-lived download URLs that need the
# token. hi keeps only the media's metadata on the message; the bytes go from Meta to the operator's browser
# and are never stored (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media).
from __future__ import annotations

from hi.integrations.api import Integration, ProviderError, failure_text
from hi.messaging.channels import MediaContent, MediaUnavailable
from hi.messaging.models import Message

from .client import MAX_MEDIA_BYTES, client_for


def open_media(integration: Integration, message: Message) -> MediaContent:
    """The media of a received message, streamed; MediaUnavailable (secrets removed) when Meta does not give it."""
    media_id = str((message.media or {}).get("id") or "")
    if not media_id.isdigit():
        raise MediaUnavailable("This message's media has no id WhatsApp knows.")
    client = client_for(integration)
    try:
        info = client.media_info(media_id)
        url = info.get("url") if isinstance(info, dict) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise MediaUnavailable("WhatsApp gave no download address for this media.")
        size = info.get("file_size")
        if isinstance(size, int) and size > MAX_MEDIA_BYTES:
            raise MediaUnavailable(f"The file is {size // (1024 * 1024)} MB; hi fetches at most {MAX_MEDIA_BYTES // (1024 * 1024)} MB.")
        response, chunks = client.media_chunks(url)
    except ProviderError as exc:
        raise MediaUnavailable(f"WhatsApp did not give the media: {failure_text(integration, exc)}") from None
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > MAX_MEDIA_BYTES:
        response.close()
        raise MediaUnavailable(f"The file is larger than the {MAX_MEDIA_BYTES // (1024 * 1024)} MB hi fetches.")
    kind = str(info.get("mime_type") or response.headers.get("Content-Type") or "application/octet-stream")
    return MediaContent(
        content_type=kind.split(";")[0].strip(), chunks=chunks, size=int(length) if length and length.isdigit() else None,
        filename=str((message.media or {}).get("filename") or ""), closers=[response.close],
    )
