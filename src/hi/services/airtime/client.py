"""The voucher provider's API: the key in X-API-Key, each body signed (hex HMAC-SHA256 in X-Signature), one purchase per reference."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote

from hi.integrations.api import HmacSha256Signer, Integration, ProviderRejected, attribute_values, client_for_integration

PROVIDER = "airtime"


@dataclass(frozen=True)
class Transaction:
    """The provider's word on one voucher: its transaction, status, code (once issued) and message."""

    transaction_id: str
    status: str
    voucher_code: str
    message: str


class AirtimeClient:
    """Calls the provider with the account's key; the signer signs each body as sent (b"" for a GET)."""

    def __init__(self, values: Mapping[str, Any], *, integration: Integration | None = None, timeout_s: float = 10.0) -> None:
        """A client from attribute values: the integration's kept one, or with no integration a bare one for a connection test."""
        self.signer = HmacSha256Signer(values["signing_secret"], "X-Signature")
        self.http = client_for_integration(
            integration, PROVIDER, values["api_base_url"], headers={"X-API-Key": values["api_key"]},
            secrets=(values["api_key"], values["signing_secret"]), timeout=(min(3.05, timeout_s), timeout_s),
        )

    def balance(self) -> dict[str, Any]:
        """GET /balance: {"account", "name", "balance", "currency"}."""
        answer = self.http.get_json("/balance", auth=self.signer)
        return answer if isinstance(answer, dict) else {}

    def issue(self, product_id: str, phone_number: str, amount: str, currency: str, reference: str) -> Transaction:
        """POST /issue: buy one voucher; the provider keeps one purchase per reference, so sending it again is safe (here too)."""
        order = {"product_id": product_id, "phone_number": phone_number, "amount": amount, "currency": currency, "reference": reference}
        return transaction(self.http.request_json("POST", "/issue", json=order, auth=self.signer, idempotent=True))

    def status(self, transaction_id: str) -> Transaction:
        """GET /status/{transaction_id}: the purchase now."""
        return transaction(self.http.get_json(f"/status/{quote(transaction_id, safe='')}", auth=self.signer))


def transaction(answer: Any) -> Transaction:
    """An /issue or /status answer; ProviderRejected (never quoting it: it may hold a code) when hi cannot act on it."""
    fields = answer if isinstance(answer, dict) else {}
    status, transaction_id, code, message = (fields.get(key) for key in ("status", "transaction_id", "voucher_code", "message"))
    readable = status in ("pending", "success", "failed") and isinstance(transaction_id, str) and isinstance(code or "", str)
    if not readable or not transaction_id or (status == "success" and not code):
        raise ProviderRejected(PROVIDER, "the answer is not a transaction hi can read (a status, its transaction, a code once issued)", 200)
    return Transaction(transaction_id, status, code or "", message if isinstance(message, str) else "")


def client_for(integration: Integration, timeout_s: float = 10.0) -> AirtimeClient:
    """The integration's client, configured from its stored attributes (with its breaker and call log)."""
    return AirtimeClient(attribute_values(integration), integration=integration, timeout_s=timeout_s)
