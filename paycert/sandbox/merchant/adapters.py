"""How the reference merchant talks to each sandbox gateway: over HTTP only, like any merchant would.

This is one merchant's integration code, so each gateway has its own small adapter: how to get a token,
create a payment, read its status, and read a webhook body. The merchant's canonical statuses are PENDING,
PAID, FAILED and CANCELLED (seed 004's pending/success/failure, plus expiry).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import httpx

from paycert.sandbox.gateways import gustaffo, paylican, txservices
from paycert.sandbox.merchant.orders import CANCELLED, FAILED, PAID, PENDING, Order

# The webhook secrets the reference merchant verifies with: fixed public sandbox values, like the
# gateways' CREDENTIALS. txservices signs callbacks with the merchant's secure key; paylican signs nothing.
WEBHOOK_SECRETS: dict[str, str] = {
    "gustaffo": "merchant-gustaffo-webhook-secret-51c2",
    "txservices": txservices.CREDENTIALS["secure_key"],
}


class GatewayRefused(Exception):
    """The gateway answered a create or status request with an error."""


@dataclass(frozen=True)
class Created:
    payment_id: str
    payment_url: str | None


@dataclass(frozen=True)
class Reading:
    """What the gateway says about a payment: webhook body or status API alike."""

    payment_id: str | None
    status: str | None  # canonical merchant status, None when the vendor status means nothing to an order
    amount: Decimal | None
    currency: str | None
    vendor_status: str | None = None


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _at(document: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


class Adapter(Protocol):
    id: str
    scheme: str  # webhook signature scheme (paycert.webhooks.signatures)
    statuses: dict[str, str]  # vendor status -> merchant status

    async def create(
        self,
        http: httpx.AsyncClient,
        base: str,
        order: Order,
        return_url: str,
        notify_url: str,
        card: dict[str, str],
    ) -> Created: ...

    async def read(self, http: httpx.AsyncClient, base: str, payment_id: str) -> Reading: ...

    def webhook(self, body: dict[str, Any]) -> Reading: ...


def _check(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise GatewayRefused(f"{what} answered HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise GatewayRefused(f"{what} answered something that is not JSON") from None


class Gustaffo:
    id = "gustaffo"
    scheme = "sha256-secret-body"
    statuses = {
        "PENDING": PENDING,
        "AWAITING_3DS": PENDING,
        "COMPLETED": PAID,
        "FAILED": FAILED,
        "CANCELLED": CANCELLED,
        "EXPIRED": CANCELLED,
    }

    def _root(self, base: str) -> str:
        return base + gustaffo.PREFIX

    async def _token(self, http: httpx.AsyncClient, base: str) -> str:
        answer = await http.post(
            self._root(base) + "/oauth/token",
            data={"grant_type": "client_credentials", **gustaffo.CREDENTIALS},
        )
        return str(_check(answer, "gustaffo token")["access_token"])

    async def create(
        self,
        http: httpx.AsyncClient,
        base: str,
        order: Order,
        return_url: str,
        notify_url: str,
        card: dict[str, str],
    ) -> Created:
        token = await self._token(http, base)
        body = {
            "amount": float(order["amount"]),
            "currency": order["currency"],
            "orderId": order["orderId"],
            "description": f"reference merchant order {order['orderId']}",
            "returnUrl": return_url,
        }
        answer = await http.post(
            self._root(base) + "/api/v1/payments", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        created = _check(answer, "gustaffo createPayment")
        return Created(str(created["paymentId"]), created.get("redirectUrl"))

    async def read(self, http: httpx.AsyncClient, base: str, payment_id: str) -> Reading:
        token = await self._token(http, base)
        answer = await http.get(
            f"{self._root(base)}/api/v1/payments/{payment_id}", headers={"Authorization": f"Bearer {token}"}
        )
        return self._reading(_check(answer, "gustaffo getPayment"))

    def _reading(self, data: Any) -> Reading:
        vendor = _at(data, "status")
        return Reading(
            payment_id=_at(data, "paymentId"),
            status=self.statuses.get(str(vendor)),
            amount=_decimal(_at(data, "amount")),
            currency=_at(data, "currency"),
            vendor_status=vendor,
        )

    def webhook(self, body: dict[str, Any]) -> Reading:
        return self._reading(body.get("data"))


class TxServices:
    id = "txservices"
    scheme = "md5-callback-checksum"
    statuses = {
        "authstarted": PENDING,
        "authstarted_3D": PENDING,
        "capturesuccess": PAID,
        "settled": PAID,
        "authfailed": FAILED,
        "cancelled": CANCELLED,
        "expired": CANCELLED,
        # the short statuses of the return URL (only the faulty merchant reads them)
        "Y": PAID,
        "N": FAILED,
        "C": CANCELLED,
        "P": PENDING,
        "3D": PENDING,
    }
    _api = txservices.PREFIX + "/transactionServices/REST/v1"

    @staticmethod
    def _md5(*parts: str) -> str:
        return hashlib.md5("|".join(parts).encode()).hexdigest()

    async def _token(self, http: httpx.AsyncClient, base: str) -> str:
        c = txservices.CREDENTIALS
        answer = await http.post(
            base + self._api + "/authToken",
            data={
                "authentication.partnerId": c["partner_id"],
                "merchant.username": c["username"],
                "authentication.sKey": c["secure_key"],
            },
            headers={"Accept": "application/json"},
        )
        return str(_check(answer, "txservices authToken")["AuthToken"])

    async def create(
        self,
        http: httpx.AsyncClient,
        base: str,
        order: Order,
        return_url: str,
        notify_url: str,
        card: dict[str, str],
    ) -> Created:
        c = txservices.CREDENTIALS
        token = await self._token(http, base)
        form = {
            "authentication.memberId": c["member_id"],
            "authentication.terminalId": c["terminal_id"],
            "authentication.checksum": self._md5(
                c["member_id"], c["secure_key"], order["orderId"], order["amount"]
            ),
            "merchantTransactionId": order["orderId"],
            "amount": order["amount"],
            "currency": order["currency"],
            "orderDescriptor": f"reference merchant order {order['orderId']}",
            "paymentType": "DB",
            "paymentMode": "CC",
            "paymentBrand": card.get("brand", "VISA"),
            "card.number": card.get("number", ""),
            "card.expiryMonth": card.get("expiryMonth", ""),
            "card.expiryYear": card.get("expiryYear", ""),
            "card.cvv": card.get("cvv", ""),
            "merchantRedirectUrl": return_url,
            "notificationUrl": notify_url,
        }
        answer = await http.post(
            base + self._api + "/payments",
            data=form,
            headers={"authtoken": token, "Accept": "application/json"},
        )
        created = _check(answer, "txservices payments")
        return Created(str(created["paymentId"]), _at(created, "redirect", "url"))

    async def read(self, http: httpx.AsyncClient, base: str, payment_id: str) -> Reading:
        c = txservices.CREDENTIALS
        token = await self._token(http, base)
        answer = await http.get(
            f"{base}{self._api}/payments/{payment_id}",
            params={
                "authentication.memberId": c["member_id"],
                "paymentId": payment_id,
                "authentication.checksum": self._md5(c["member_id"], c["secure_key"], payment_id),
            },
            headers={"authtoken": token, "Accept": "application/json"},
        )
        return self._reading(_check(answer, "txservices getPayment"), "status")

    def webhook(self, body: dict[str, Any]) -> Reading:
        # The checksum covers transactionStatus, not the long `status` beside it: only the signed one counts.
        return self._reading(body, "transactionStatus")

    def _reading(self, body: dict[str, Any], status_field: str) -> Reading:
        vendor = body.get(status_field)
        return Reading(
            payment_id=str(body["paymentId"]) if body.get("paymentId") is not None else None,
            status=self.statuses.get(str(vendor)),
            amount=_decimal(body.get("amount")),
            currency=body.get("currency"),
            vendor_status=vendor,
        )


class Paylican:
    id = "paylican"
    scheme = "none"
    statuses = {
        "UNPAID": PENDING,
        "PAID": PAID,
        "FAILED": FAILED,
        "REJECTED": CANCELLED,
        "EXPIRED": CANCELLED,
    }

    def _root(self, base: str) -> str:
        return base + paylican.PREFIX

    async def _token(self, http: httpx.AsyncClient, base: str) -> str:
        answer = await http.post(
            self._root(base) + "/auth/realms/PGW/protocol/openid-connect/token",
            data={"grant_type": "password", **paylican.CREDENTIALS},
        )
        return str(_check(answer, "paylican token")["access_token"])

    async def create(
        self,
        http: httpx.AsyncClient,
        base: str,
        order: Order,
        return_url: str,
        notify_url: str,
        card: dict[str, str],
    ) -> Created:
        token = await self._token(http, base)
        body = {
            "amount": float(order["amount"]),
            "type": "PCT",
            "customerCode": "REFMERCHANT",
            "merchantReference": order["orderId"],
            "redirectionUrl": return_url,
            "itemName": f"reference merchant order {order['orderId']}",
            "beneficiaryCode": "20",
            "additionalFields": [{"code": "documentNo", "value": order["orderId"]}],
        }
        answer = await http.post(
            self._root(base) + "/api/v1/payment", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        invoice_id = str(_check(answer, "paylican createPayment")["invoiceId"])
        # The seed's "Redirect to Payment page": through the Keycloak auth endpoint to the pay page.
        root = self._root(base)
        pay_page = f"{root}/api/v1/pay/PCT/{order['orderId']}/{invoice_id}"
        url = httpx.URL(
            root + "/auth/realms/PGW/protocol/openid-connect/auth",
            params={"client_id": paylican.CREDENTIALS["client_id"], "redirect_uri": pay_page},
        )
        return Created(invoice_id, str(url))

    async def read(self, http: httpx.AsyncClient, base: str, payment_id: str) -> Reading:
        token = await self._token(http, base)
        answer = await http.get(
            f"{self._root(base)}/api/v1/payment/{payment_id}", headers={"Authorization": f"Bearer {token}"}
        )
        data = _check(answer, "paylican getPayment")
        vendor = data.get("status")
        return Reading(
            payment_id=data.get("invoiceId"),
            status=self.statuses.get(str(vendor)),
            amount=_decimal(data.get("totalAmount")),
            currency=None,
            vendor_status=vendor,
        )

    def webhook(self, body: dict[str, Any]) -> Reading:
        data = body.get("data")
        vendor = _at(data, "status")
        return Reading(
            payment_id=str(_at(data, "id")) if _at(data, "id") is not None else None,
            status=self.statuses.get(str(vendor)),
            amount=_decimal(_at(data, "totalAmount")),
            currency=None,
            vendor_status=vendor,
        )


ADAPTERS: dict[str, Adapter] = {a.id: a for a in (Gustaffo(), TxServices(), Paylican())}


def parse_json(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None
