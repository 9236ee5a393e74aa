"""Helpers for the paylican sandbox tests (no tests here): a plain httpx client speaking the gateway as the seed
describes it, a reader of the pay page form, and validators built from the spec and the webhook schema, so the
tests check the sandbox against `specs/paylican/`, not against its own code."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from paycert.sandbox.gateways.paylican import CREDENTIALS

SPECS = Path(__file__).resolve().parents[2] / "specs" / "paylican"
TOKEN_PATH = "/auth/realms/PGW/protocol/openid-connect/token"
AUTH_PATH = "/auth/realms/PGW/protocol/openid-connect/auth"
VISA = "4111111111111111"  # pays
DECLINED = "4000000000000002"  # declined
RETURN_URL = "http://127.0.0.1:9/shop/return?order=1"
_refs = itertools.count(1)


def reference() -> str:
    return f"REF-{int(time.time())}-{next(_refs)}"


def profile() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SPECS / "profile.yaml").read_text())
    return loaded


def _spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SPECS / "openapi.yaml").read_text())
    return loaded


def spec_schema(name: str) -> Callable[[Any], None]:
    """A validator for `components/schemas/<name>` of the spec (refs resolved inside the spec)."""
    registry = Registry().with_resource("urn:paylican", Resource.from_contents(_spec(), DRAFT202012))
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"urn:paylican#/components/schemas/{name}"}, registry=registry
    )
    validate: Callable[[Any], None] = validator.validate
    return validate


def webhook_schema() -> Callable[[Any], None]:
    schema = json.loads((SPECS / "schemas" / "webhook.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    validate: Callable[[Any], None] = validator.validate
    return validate


class FormReader(HTMLParser):
    """The forms of a page: id -> {action, method, inputs (names), buttons [(name, value)]}."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, Any]] = {}
        self._current: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = {
                "action": attr.get("action"),
                "method": attr.get("method"),
                "inputs": [],
                "buttons": [],
            }
            self.forms[attr.get("id", "")] = self._current
        elif tag == "input" and self._current is not None:
            self._current["inputs"].append(attr.get("name"))
        elif tag == "button" and self._current is not None:
            self._current["buttons"].append((attr.get("name"), attr.get("value"), attr.get("type")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def read_forms(html: str) -> dict[str, dict[str, Any]]:
    reader = FormReader()
    reader.feed(html)
    return reader.forms


class Paylican:
    """The merchant's (and the shopper's) side of paylican, as plain HTTP calls against one sandbox."""

    def __init__(self, base_url: str) -> None:
        self.root = base_url
        self.base = f"{base_url}/paylican"
        self.http = httpx.Client(timeout=10.0)
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    # -- auth -----------------------------------------------------------------------------------------
    def token_response(self, **overrides: str) -> httpx.Response:
        form = {
            "username": CREDENTIALS["username"],
            "password": CREDENTIALS["password"],
            "grant_type": "password",
            "client_id": CREDENTIALS["client_id"],
            **overrides,
        }
        return self.http.post(self.base + TOKEN_PATH, data=form)

    def token(self) -> str:
        if self._token is None:
            response = self.token_response()
            assert response.status_code == 200, response.text
            self._token = str(response.json()["access_token"])
        return self._token

    def headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token()}"}
        if key:
            headers["Idempotency-Key"] = key
        return headers

    # -- payments -------------------------------------------------------------------------------------
    def payment_body(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "amount": 5100.00,
            "type": "XYZ",
            "customerCode": "ABC123",
            "merchantReference": reference(),
            "redirectionUrl": RETURN_URL,
            "itemName": "Item name",
            "beneficiaryCode": "20",
            "additionalFields": [
                {"code": "documentNo", "value": "TST1201901260"},
                {"code": "documentDate", "value": "2018-01-03Z"},
            ],
        }
        body.update(overrides)
        return body

    def create_response(
        self, body: dict[str, Any] | None = None, *, key: str | None = None, auth: bool = True
    ) -> httpx.Response:
        headers = self.headers(key) if auth else ({"Idempotency-Key": key} if key else {})
        return self.http.post(
            f"{self.base}/api/v1/payment", json=body or self.payment_body(), headers=headers
        )

    def create(self, **overrides: Any) -> dict[str, Any]:
        body = self.payment_body(**overrides)
        response = self.create_response(body)
        assert response.status_code == 200, response.text
        return {**body, **response.json()}

    def status_response(self, invoice_id: str, *, auth: bool = True) -> httpx.Response:
        return self.http.get(
            f"{self.base}/api/v1/payment/{invoice_id}", headers=self.headers() if auth else {}
        )

    def status(self, invoice_id: str) -> dict[str, Any]:
        response = self.status_response(invoice_id)
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        return document

    def invocations(self, invoice_id: str) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.base}/api/v1/payment/{invoice_id}/webhooks", headers=self.headers())
        assert response.status_code == 200, response.text
        document: list[dict[str, Any]] = response.json()
        return document

    def configure_webhook(self, url: str) -> httpx.Response:
        response = self.http.put(
            f"{self.base}/api/v1/webhook-endpoint", json={"url": url}, headers=self.headers()
        )
        assert response.status_code == 200, response.text
        return response

    # -- the shopper ----------------------------------------------------------------------------------
    def pay_page_url(self, payment: dict[str, Any]) -> str:
        return (
            f"{self.base}/api/v1/pay/{payment['type']}/{payment['merchantReference']}/{payment['invoiceId']}"
        )

    def enter(self, payment: dict[str, Any]) -> httpx.Response:
        """The seed's "Redirect to Payment page": the auth URL, not followed."""
        params = {"client_id": CREDENTIALS["client_id"], "redirect_uri": self.pay_page_url(payment)}
        return self.http.get(self.base + AUTH_PATH, params=params)

    def submit(
        self,
        payment: dict[str, Any],
        card: str = VISA,
        *,
        action: str = "pay",
        month: str = "12",
        year: str = "2034",
        cvv: str = "123",
    ) -> httpx.Response:
        form = {"cardNumber": card, "expiryMonth": month, "expiryYear": year, "cvv": cvv, "action": action}
        return self.http.post(self.pay_page_url(payment), data=form)

    def pays(self, payment: dict[str, Any], card: str = VISA) -> httpx.Response:
        response = self.submit(payment, card)
        assert response.status_code == 303, response.text
        return response

    def cancels(self, payment: dict[str, Any]) -> httpx.Response:
        response = self.http.post(self.pay_page_url(payment), data={"action": "cancel"})
        assert response.status_code == 303, response.text
        return response

    # -- sandbox controls -----------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        response = self.http.post(f"{self.root}/_sandbox/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text

    def wait_for_invocation(
        self, invoice_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """The first invocation of the invoice matching `predicate`, polled for at most `timeout` s."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            seen = self.invocations(invoice_id)
            for invocation in seen:
                if predicate(invocation):
                    return invocation
            time.sleep(0.05)
        raise AssertionError(f"no matching webhook invocation within {timeout}s: {seen}")


def attempts_made(count: int, state: str | None = None) -> Callable[[dict[str, Any]], bool]:
    def match(invocation: dict[str, Any]) -> bool:
        return len(invocation["attempts"]) == count and (state is None or invocation["state"] == state)

    return match
