"""A simulator of an airtime voucher provider: X-API-Key, signed requests (X-Signature), /issue deduped by reference, /status, /balance."""
# The wire format of docs/services/airtime.md ("What hi relies on"), as such providers speak it: a voucher
# is bought once per `reference`, whatever happens to the answer; a purchase may stay pending and settle
# later; money travels as decimal strings. Its own knobs (POST /_simulator/airtime) decide how the next
# purchases end and lose answers on purpose, beside the standard fault knobs (POST /_simulator/faults).
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Callable

from hi.integrations.simulation import FakeProviderServer, FakeRequest, Response, json_response

#: API key → (signing secret, the account it belongs to).
DEFAULT_KEYS = {"demo-airtime-key": ("demo-signing-secret", {"id": "acct-airtime", "name": "Airtime demo account"})}
#: Product id → what it is (the operator's prepaid top-up).
DEFAULT_PRODUCTS = {"claro-br": "Claro prepaid", "vivo-br": "Vivo prepaid", "tim-br": "TIM prepaid"}
AMOUNT = re.compile(r"^\d{1,7}\.\d{2}$")
PHONE = re.compile(r"^\+?\d{8,15}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
OUTCOMES = ("success", "pending", "failed")


@dataclass
class Transaction:
    """One voucher purchase as the provider keeps it."""

    transaction_id: str
    reference: str
    product_id: str
    phone_number: str
    amount: str
    currency: str
    status: str
    voucher_code: str
    message: str
    #: Status checks that still answer "pending", then the purchase ends as `settles_as`.
    checks_left: int = 0
    settles_as: str = "success"

    def answer(self) -> dict[str, str]:
        """What /issue and /status answer: the code only once the voucher is issued."""
        return {
            "transaction_id": self.transaction_id, "reference": self.reference, "status": self.status,
            "voucher_code": self.voucher_code if self.status == "success" else "", "message": self.message,
        }


class AirtimeSimulator(FakeProviderServer):
    """Sells airtime vouchers: one transaction per reference, pending ones settled by status checks, a balance."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """A simulator on a free port (port 0) with the demo key, three products and a balance of 1,000.00 BRL."""
        super().__init__(host, port)
        self.keys = {key: (secret, dict(account)) for key, (secret, account) in DEFAULT_KEYS.items()}
        self.products = dict(DEFAULT_PRODUCTS)
        self.balance = Decimal("1000.00")
        #: Purchases by reference, in the order they were made.
        self.transactions: dict[str, Transaction] = {}
        #: How the next new purchase ends: "success", "pending" (then `pending_checks` checks, then `settles_as`), "failed".
        self.outcome, self.pending_checks, self.settles_as = "success", 0, "success"
        #: The next N purchases are made, then the connection is closed without an answer (a lost response).
        self.lose_responses = 0
        self.route("POST", "/issue", self.issue)
        self.route("GET", "/status/{transaction_id}", self.status)
        self.route("GET", "/balance", self.show_balance)
        self.route("GET", "/_simulator/airtime", self.show_knobs)
        self.route("POST", "/_simulator/airtime", self.set_knobs)

    def _account(self, request: FakeRequest) -> tuple[dict | None, Response | None]:
        """The account of an authentic request, or the 401 to answer: an unknown key, or a body not signed with its secret."""
        secret, account = self.keys.get(request.headers.get("x-api-key", ""), (None, None))
        if account is None:
            return None, json_response(401, {"error": "unknown API key"})
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-signature", "")):
            return None, json_response(401, {"error": "invalid signature"})
        return account, None

    def issue(self, request: FakeRequest) -> Response | None:
        """POST /issue {product_id, phone_number, amount, currency, reference}: buy a voucher, once per reference."""
        account, refusal = self._account(request)
        if refusal:
            return refusal
        try:
            order = request.json()
            fields = {name: order[name] for name in ("product_id", "phone_number", "amount", "currency", "reference")}
        except (ValueError, KeyError, TypeError):
            return json_response(422, {"error": "expected {product_id, phone_number, amount, currency, reference}"})
        problem = self._invalid(fields)
        if problem:
            return json_response(422, {"error": problem})
        with self._lock:
            transaction = self.transactions.get(fields["reference"])
            if transaction is None:  # a reference seen before answers its first purchase: never a second voucher
                transaction = self.transactions[fields["reference"]] = self._purchase(fields)
            lose = self.lose_responses > 0
            self.lose_responses -= lose
        return None if lose else json_response(200, transaction.answer())

    def _invalid(self, fields: dict[str, Any]) -> str:
        """Why the purchase's fields are refused ('' when they are fine)."""
        if not all(isinstance(value, str) for value in fields.values()):
            return "every field is a string (amounts are decimal strings, never numbers)"
        if fields["product_id"] not in self.products:
            return f"unknown product {fields['product_id']}"
        if not PHONE.match(fields["phone_number"]):
            return "phone_number is 8 to 15 digits, with an optional leading +"
        if not AMOUNT.match(fields["amount"]) or Decimal(fields["amount"]) <= 0:
            return "amount is a positive decimal string with two decimals, like 10.00"
        if not CURRENCY.match(fields["currency"]) or not 0 < len(fields["reference"]) <= 100:
            return "currency is an ISO 4217 code and reference 1 to 100 characters"
        return ""

    def _purchase(self, fields: dict[str, str]) -> Transaction:
        """A new transaction, ended as the knobs say (a failure when the balance is short); the balance pays for it."""
        messages = {"success": "Voucher issued.", "pending": "Processing.", "failed": "The operator refused the top-up."}
        status, message = self.outcome, messages[self.outcome]
        if status != "failed" and Decimal(fields["amount"]) > self.balance:
            status, message = "failed", "Insufficient balance."
        if status != "failed":
            self.balance -= Decimal(fields["amount"])
        code = "".join(secrets.choice("0123456789") for _ in range(16))
        return Transaction(
            transaction_id=f"tx-{len(self.transactions) + 1:06d}", status=status, voucher_code=code, message=message,
            checks_left=self.pending_checks, settles_as=self.settles_as, **fields,
        )

    def status(self, request: FakeRequest) -> Response:
        """GET /status/{transaction_id}: the purchase now; a pending one settles after its checks."""
        _account, refusal = self._account(request)
        if refusal:
            return refusal
        with self._lock:
            transaction = next((t for t in self.transactions.values() if t.transaction_id == request.params["transaction_id"]), None)
            if transaction is not None and transaction.status == "pending":
                if transaction.checks_left > 0:
                    transaction.checks_left -= 1
                else:
                    transaction.status = transaction.settles_as
                    transaction.message = "Voucher issued." if transaction.status == "success" else "The operator refused the top-up."
                    if transaction.status == "failed":
                        self.balance += Decimal(transaction.amount)  # refunded
        if transaction is None:
            return json_response(404, {"error": "unknown transaction"})
        return json_response(200, transaction.answer())

    def show_balance(self, request: FakeRequest) -> Response:
        """GET /balance: the account and what it can still spend."""
        account, refusal = self._account(request)
        if refusal:
            return refusal
        return json_response(200, {"account": account["id"], "name": account["name"], "balance": f"{self.balance:.2f}", "currency": "BRL"})

    def show_knobs(self, request: FakeRequest) -> Response:
        """GET /_simulator/airtime: the purchase knobs, the balance and every transaction (codes included: it is a simulator)."""
        return json_response(200, {
            "outcome": self.outcome, "pending_checks": self.pending_checks, "settles_as": self.settles_as,
            "lose_responses": self.lose_responses, "balance": f"{self.balance:.2f}",
            "transactions": [asdict(t) for t in self.transactions.values()],
        })

    def set_knobs(self, request: FakeRequest) -> Response:
        """POST /_simulator/airtime {outcome, pending_checks, settles_as, lose_responses, balance}: how the next purchases go."""
        try:
            knobs = json.loads(request.body or b"{}")
            outcome, settles_as = knobs.get("outcome", self.outcome), knobs.get("settles_as", self.settles_as)
            pending_checks = int(knobs.get("pending_checks", self.pending_checks))
            lose = int(knobs.get("lose_responses", self.lose_responses))
            balance = Decimal(str(knobs.get("balance", self.balance)))
            if outcome not in OUTCOMES or settles_as not in ("success", "failed") or min(pending_checks, lose) < 0:
                raise ValueError
            if not balance.is_finite():
                raise ValueError
        except (ValueError, TypeError, AttributeError, ArithmeticError):
            return json_response(400, {"error": "expected {outcome: success|pending|failed, pending_checks: n, "
                                                "settles_as: success|failed, lose_responses: n, balance: \"100.00\"}"})
        with self._lock:
            self.outcome, self.settles_as, self.pending_checks = outcome, settles_as, pending_checks
            self.lose_responses, self.balance = lose, balance
        return self.show_knobs(request)


def build(port: int = 0) -> AirtimeSimulator:
    """The simulator with its defaults, not started (hi_quality and the tests start it)."""
    return AirtimeSimulator(port=port)


def serve_cli(port: int, options: dict, write: Callable[[str], None]) -> None:
    """hi_simulator hook: serve the voucher provider until interrupted."""
    simulator = AirtimeSimulator(port=port)
    write(f"Airtime voucher provider simulator on {simulator.url} (API key demo-airtime-key, signing secret "
          f"demo-signing-secret; products: {', '.join(simulator.products)})")
    try:
        simulator.serve_forever()
    except KeyboardInterrupt:
        pass
