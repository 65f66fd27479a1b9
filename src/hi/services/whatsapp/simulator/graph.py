"""The simulator's Graph endpoints that read: the phone number, message templates with paging, and media."""
from __future__ import annotations

import hmac
from typing import Any, Callable
from urllib.parse import urlencode

from hi.integrations.simulation import FakeRequest, Response, json_response

from .data import ERROR_STATUSES, ERRORS, VERSION, cursor_index, new_trace_id, page_cursor

#: What `GET /{phone_number_id}` answers without `fields` (Meta's default set).
PHONE_DEFAULT_FIELDS = ("verified_name", "code_verification_status", "display_phone_number", "quality_rating",
                        "platform_type", "throughput")
#: Template fields that may be asked for without being in the listing by default.
TEMPLATE_EXTRA_FIELDS = ("rejected_reason", "quality_score", "sub_category")
MAX_PAGE = 500


class GraphMixin:
    """Errors, authentication and the read endpoints; mixed into WhatsAppSimulator (which holds the state)."""

    _state: Any
    rng: Any
    url: str
    access_token: str
    token_expired: bool
    auth_error_status: int
    error_statuses: dict[int, int]
    phone_number_id: str
    business_account_id: str
    templates: list[dict[str, Any]]
    media: dict[str, dict[str, Any]]
    token_in_paging_urls: bool
    phone_fields: Callable[[], dict[str, Any]]

    # --- errors and authentication -------------------------------------------------------------------

    def graph_error(self, code: int, *, message: str | None = None, details: str | None = None,
                    subcode: int | None = None) -> Response:
        """A Graph error envelope, over the HTTP status Meta's table gives the code (190: `auth_error_status`)."""
        title, default_details = ERRORS.get(code, ("Invalid parameter", ""))
        error: dict[str, Any] = {"message": message or f"(#{code}) {title}", "type": "OAuthException", "code": code,
                                 "error_data": {"messaging_product": "whatsapp",
                                                "details": details or default_details or title}}
        if subcode is not None:
            error["error_subcode"] = subcode
        with self._state:
            error["fbtrace_id"] = new_trace_id(self.rng)
            status = self.auth_error_status if code == 190 else self.error_statuses.get(code, ERROR_STATUSES.get(code, 400))
        headers = {"WWW-Authenticate": f'OAuth "Facebook Platform" "invalid_token" "{error["message"]}"'} if code == 190 else {}
        return json_response(status, {"error": error}, headers)

    def authorize(self, request: FakeRequest) -> Response | None:
        """None when the request carries the access token (Bearer header or `access_token` query), else a 190 error."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        token = token or request.query.get("access_token", [""])[0]
        if not token or not hmac.compare_digest(token.encode(), self.access_token.encode()):
            return self.graph_error(190, message="Invalid OAuth access token - Cannot parse access token")
        if self.token_expired:
            # What a temporary token from the App Dashboard gets a day after it was issued.
            return self.graph_error(190, subcode=463, message="Error validating access token: Session has expired "
                                    "on Tuesday, 10-Jun-25 04:00:00 PDT. The current time is Wednesday, 11-Jun-25 "
                                    "09:12:31 PDT.")
        return None

    def check_path(self, request: FakeRequest, node: str) -> Response | None:
        """None when the version prefix is a Graph version and `node` is the path's object, else Meta's error."""
        version = request.params.get("ver", "")
        if not VERSION.match(version):
            return self.graph_error(100, message=f"Unknown path components: /{version}", details="Unknown path components")
        if request.params.get("node") != node:
            return self.unsupported(request)
        return None

    def unsupported(self, request: FakeRequest) -> Response:
        """What Meta answers for an object that does not exist (or the token may not see)."""
        verb = "get" if request.method == "GET" else "post"
        return self.graph_error(100, subcode=33, message=(
            f"Unsupported {verb} request. Object with ID '{request.params.get('node', '')}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation. Please read the Graph API "
            "documentation at https://developers.facebook.com/docs/graph-api"))

    @staticmethod
    def requested_fields(request: FakeRequest) -> list[str]:
        """The `fields` query parameter as a list (empty when absent)."""
        return [f.strip() for raw in request.query.get("fields", []) for f in raw.split(",") if f.strip()]

    def nonexisting_field(self, name: str, node_type: str) -> Response:
        """Meta's answer to a field the node does not have."""
        return self.graph_error(100, message=f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})")

    # --- nodes: the phone number and media -----------------------------------------------------------

    def get_node(self, request: FakeRequest) -> Response:
        """GET /{ver}/{id}: the phone number (its `fields`) or a media object's download URL."""
        refused = self.authorize(request)
        if refused is not None:
            return refused
        node = request.params["node"]
        with self._state:
            media = self.media.get(node)
        if media is not None:
            refused = self.check_path(request, node)
            return refused or json_response(200, {"messaging_product": "whatsapp", "url": f"{self.url}/_media/{node}",
                                                  "mime_type": media["mime_type"], "sha256": media["sha256"],
                                                  "file_size": len(media["data"]), "id": node})
        refused = self.check_path(request, self.phone_number_id)
        if refused is not None:
            return refused
        known = self.phone_fields()
        fields = self.requested_fields(request) or list(PHONE_DEFAULT_FIELDS)
        for name in fields:
            if name not in known:
                return self.nonexisting_field(name, "WhatsAppBusinessPhoneNumber")
        return json_response(200, {**{name: known[name] for name in fields}, "id": self.phone_number_id})

    def download_media(self, request: FakeRequest) -> Response:
        """GET the URL a media object gave: its bytes, with the access token only."""
        refused = self.authorize(request)
        if refused is not None:
            return refused
        with self._state:
            media = self.media.get(request.params["media_id"])
        if media is None:
            return json_response(404, {"error": "media not found"})
        return 200, {"Content-Type": media["mime_type"]}, media["data"]

    # --- templates ---------------------------------------------------------------------------------

    def list_templates(self, request: FakeRequest) -> Response:
        """GET /{ver}/{waba}/message_templates?limit=N&after=C|before=C&fields=…: a page and its paging cursors."""
        refused = self.authorize(request) or self.check_path(request, self.business_account_id)
        if refused is not None:
            return refused
        raw_limit = request.query.get("limit", ["25"])[0]
        if not raw_limit.isdigit() or int(raw_limit) < 1:
            return self.graph_error(100, message="(#100) Param limit must be a positive integer")
        limit = min(int(raw_limit), MAX_PAGE)
        after, before = request.query.get("after", [None])[0], request.query.get("before", [None])[0]
        with self._state:
            listed = [dict(t) for t in self.templates]
        start, end = 0, min(limit, len(listed))
        for cursor, is_after in ((after, True), (before, False)):
            if cursor is None:
                continue
            index = cursor_index(cursor)
            if index is None:
                return self.graph_error(100, message="(#100) Invalid cursor", details=f"The cursor {cursor!r} is not valid.")
            start, end = (index + 1, index + 1 + limit) if is_after else (max(0, index - limit), index)
            end = min(end, len(listed))
        fields = self.requested_fields(request)
        for name in fields:
            if name not in TEMPLATE_EXTRA_FIELDS and not any(name in t for t in listed):
                return self.nonexisting_field(name, "WhatsAppBusinessHSM")
        page = [self._project(t, fields) for t in listed[start:end]]
        if not page:
            return json_response(200, {"data": []})
        paging: dict[str, Any] = {"cursors": {"before": page_cursor(start), "after": page_cursor(end - 1)}}
        base = f"{self.url}/{request.params['ver']}/{self.business_account_id}/message_templates"
        query: dict[str, str] = {"limit": str(limit)}
        if fields:
            query["fields"] = ",".join(fields)
        if self.token_in_paging_urls:
            # Meta puts the token in paging links: a client that logs them leaks it.
            query["access_token"] = self.access_token
        if end < len(listed):
            paging["next"] = f"{base}?{urlencode({**query, 'after': page_cursor(end - 1)})}"
        if start > 0:
            paging["previous"] = f"{base}?{urlencode({**query, 'before': page_cursor(start)})}"
        return json_response(200, {"data": page, "paging": paging})

    @staticmethod
    def _project(item: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        """A template with only the asked fields (and its id), computing the extra ones."""
        if not fields:
            return item
        extra = {"rejected_reason": "INVALID_FORMAT" if item.get("status") == "REJECTED" else "NONE",
                 "quality_score": {"score": "UNKNOWN"}, "sub_category": None}
        return {**{name: item[name] if name in item else extra.get(name) for name in fields}, "id": item["id"]}
