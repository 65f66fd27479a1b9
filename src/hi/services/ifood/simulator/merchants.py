"""The simulator's merchant endpoints: the list, one merchant, and its status with presence."""
from __future__ import annotations

from typing import Any

from hi.integrations.simulation import FakeRequest, Response, json_response

from .common import Caller, ifood_error


class MerchantsMixin:
    """GET /merchant/v1.0/merchants[/{id}[/status[/{operation}]]]; mixed into IFoodSimulator."""

    _state: Any
    merchants: dict[str, dict]
    grants: dict[str, list[str]]
    presence_window_s: float
    _last_seen: dict[str, float]

    # --- merchants --------------------------------------------------------------------------------

    def is_connected(self, merchant_id: str) -> bool:
        """Presence: polled (or a KEEPALIVE answered) within `presence_window_s`."""
        with self._state:
            seen = self._last_seen.get(merchant_id)
            return seen is not None and self.now() - seen <= self.presence_window_s

    def mark_present(self, merchant_ids: list[str]) -> None:
        """Record presence for merchants (a webhook KEEPALIVE answered 202)."""
        with self._state:
            for merchant_id in merchant_ids:
                self._last_seen[merchant_id] = self.now()

    def set_merchant_state(self, merchant_id: str, state: str) -> None:
        """Set a merchant's configured state: OK, WARNING, CLOSED or ERROR."""
        if state not in ("OK", "WARNING", "CLOSED", "ERROR"):
            raise ValueError("state must be OK, WARNING, CLOSED or ERROR")
        with self._state:
            self.merchants[merchant_id]["state"] = state

    def _granted_merchant(self, request: FakeRequest) -> tuple[Caller, dict] | Response:
        """The caller and the merchant named in the path, or 401/404/403."""
        caller = self._authorize(request)
        if not isinstance(caller, Caller):
            return caller
        merchant = self.merchants.get(request.params["merchant_id"])
        if merchant is None:
            return ifood_error(404, "NotFound", "Merchant not found", caller.headers)
        if merchant["id"] not in self.grants[caller.client_id]:
            return ifood_error(403, "Forbidden", "Merchant not authorized for this application", caller.headers)
        return caller, merchant

    def list_merchants(self, request: FakeRequest) -> Response:
        """GET /merchant/v1.0/merchants?page=&size=: the credential's merchants, paged (size default 100)."""
        caller = self._authorize(request)
        if not isinstance(caller, Caller):
            return caller
        try:
            page = max(1, int(request.query.get("page", ["1"])[0]))
            size = max(1, int(request.query.get("size", ["100"])[0]))
        except ValueError:
            return ifood_error(400, "BadRequest", "page and size must be integers", caller.headers)
        ids = self.grants[caller.client_id][(page - 1) * size : page * size]
        listing = [{"id": m, "name": self.merchants[m]["name"], "corporateName": self.merchants[m]["name"] + " LTDA"} for m in ids]
        return json_response(200, listing, caller.headers)

    def merchant(self, request: FakeRequest) -> Response:
        """GET /merchant/v1.0/merchants/{id}: one merchant."""
        found = self._granted_merchant(request)
        if not isinstance(found[0], Caller):
            return found  # type: ignore[return-value]
        caller, merchant = found
        return json_response(200, {"id": merchant["id"], "name": merchant["name"], "corporateName": merchant["name"] + " LTDA",
                                   "description": "Restaurante", "averageTicket": 45.0, "exclusive": False,
                                   "type": "RESTAURANT", "status": "AVAILABLE", "createdAt": "2020-05-04T14:32:10Z",
                                   "address": {"country": "BR", "state": "SP", "city": "São Paulo", "postalCode": "01310100",
                                               "district": "Bela Vista", "street": "Avenida Paulista", "number": "1000"},
                                   "operations": [{"name": "DELIVERY", "salesChannels": [{"name": "IFOOD", "enabled": True}]}]},
                             caller.headers)

    def merchant_status(self, request: FakeRequest) -> Response:
        """GET /merchant/v1.0/merchants/{id}/status[/{operation}]: state, availability and validations."""
        found = self._granted_merchant(request)
        if not isinstance(found[0], Caller):
            return found  # type: ignore[return-value]
        caller, merchant = found
        operation = request.params.get("operation")
        if operation is not None and operation.upper() != "DELIVERY":
            return ifood_error(404, "NotFound", f"Operation {operation} not found", caller.headers)
        connected = self.is_connected(merchant["id"])
        state = merchant["state"]
        overall = "CLOSED" if not connected and state in ("OK", "WARNING") else state

        def message(title: str, description: str = "") -> dict:
            """A validation's message in iFood's shape."""
            return {"title": title, "subtitle": "", "description": description}

        validations = [
            {"id": f"{merchant['id'][:8]}-conn", "code": "is-connected", "state": "OK" if connected else "CLOSED",
             "message": message("Loja conectada" if connected else "Loja desconectada",
                                "" if connected else "Nenhum polling recebido nos últimos 30 segundos.")},
            {"id": f"{merchant['id'][:8]}-hours", "code": "opening-hours", "state": "CLOSED" if state == "CLOSED" else "OK",
             "message": message("Fora do horário de funcionamento" if state == "CLOSED" else "Dentro do horário")},
        ]
        if state == "WARNING":
            validations.append({"id": f"{merchant['id'][:8]}-radius", "code": "radius-restriction", "state": "WARNING",
                                "message": message("Raio de entrega reduzido")})
        if state == "ERROR":
            validations.append({"id": f"{merchant['id'][:8]}-payout", "code": "payout-blocked", "state": "ERROR",
                                "message": message("Repasse bloqueado", "Entre em contato com o suporte.")})
        entry = {"operation": "DELIVERY", "salesChannel": "MARKETPLACE", "available": overall in ("OK", "WARNING"),
                 "state": overall, "validations": validations, "message": validations[0]["message"] if not connected else message("")}
        return json_response(200, [entry], caller.headers)

