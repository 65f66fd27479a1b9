"""Turn an undecryptable stored secret into a page that says how to fix the keys, not a 500."""
from __future__ import annotations

import logging
from typing import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..core.errors import SecretDecryptionError

logger = logging.getLogger(__name__)


class SecretKeysMiddleware:
    """Answer 503 with an explanation when HI_ENCRYPTION_KEYS cannot decrypt a stored secret."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Keep the next handler in the chain."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Pass the request on."""
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Only SecretDecryptionError is handled here; anything else goes on to Django."""
        if not isinstance(exception, SecretDecryptionError):
            return None
        logger.error("A stored secret cannot be decrypted (%s %s): %s", request.method, request.path, exception)
        return render(request, "errors/keys.html", status=503)
