"""Kestrel Pay behaves as its spec and README say, so a certification of it means something (fast, no paycert run).

Everything goes over HTTP against a real server: a merchant with plain httpx (every answer checked against
openapi.yaml), a shopper that reads the hosted page's forms and posts them as a browser would, and webhooks
checked with a Standard Webhooks verifier written here, apart from the gateway's own signer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from paycert.targets.spec import ApiSpec
from paycert.webhooks.sink import Delivery, WebhookSink
from tests.fifth_gateway.app import (
    CLIENT_ID,
    CLIENT_SECRET,
    OTHER_CLIENT_ID,
    OTHER_CLIENT_SECRET,
    WEBHOOK_SECRET,
    WRONG_WEBHOOK_SECRET,
    Faults,
    KestrelServer,
)
from tests.fifth_gateway.sender import sign

HERE = Path(__file__).parent
SPEC = ApiSpec.from_location(HERE / "openapi.yaml")
DOCUMENT = yaml.safe_load((HERE / "openapi.yaml").read_text(encoding="utf-8"))
REGISTRY: Registry[Any] = Registry().with_resource(
    "urn:kestrel", Resource.from_contents(DOCUMENT, default_specification=DRAFT202012)
)
FAST_RETRIES = (0.2, 0.4, 0.8, 1.6)  # the default 1, 2, 4, 8 s, shortened the way a test may

PAID = {"cardNumber": "4242 4242 4242 4242", "cardExpiry": "12 / 34", "cardCvc": "123", "billingName": "Ada"}
DECLINED = {**PAID, "cardNumber": "4000000000000002"}
CHALLENGED = {**PAID, "cardNumber": "4000002760003184"}


# --- An independent Standard Webhooks verifier (https://www.standardwebhooks.com) ---------------------


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    """True when one `v1` signature of `webhook-signature` is the HMAC of id.timestamp.body, on time."""
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (msg_id and stamp.isdigit() and signatures) or abs(time.time() - int(stamp)) > tolerance:
        return False
    key = base64.b64decode(secret[len("whsec_") :])
    signed = b".".join([msg_id.encode(), stamp.encode(), body])
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return True
    return False


def test_the_signer_and_the_verifier_agree_with_the_published_test_vector() -> None:
    secret, msg_id, stamp, body = (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    assert sign(secret, msg_id, stamp, body) == expected
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": expected}
    assert verify_standard_webhook(secret, headers, body, tolerance=10**10)
    assert not verify_standard_webhook(secret, headers, body + b" ", tolerance=10**10)
    assert not verify_standard_webhook(secret, headers, body)  # five years late


def schema_problems(pointer: str, document: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator({"$ref": f"urn:kestrel#{pointer}"}, registry=REGISTRY)
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


WEBHOOK_SCHEMA = "/webhooks/kestrelEvent/post/requestBody/content/application~1json/schema"


# --- A shopper that reads the forms of a page and posts them as a browser would -----------------------


@dataclass
class HtmlForm:
    id: str
    action: str
    method: str
    inputs: dict[str, str] = field(default_factory=dict)  # name -> value (hidden values as served)
    kinds: dict[str, str] = field(default_factory=dict)  # name -> input type
    buttons: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, value)


class FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, HtmlForm] = {}
        self.outside: list[str] = []  # ids of buttons outside any form
        self._open: HtmlForm | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._open = HtmlForm(a.get("id", ""), a.get("action", ""), a.get("method", "get").lower())
            self.forms[self._open.id] = self._open
        elif tag == "input" and self._open is not None and a.get("name"):
            self._open.inputs[a["name"]] = a.get("value", "")
            self._open.kinds[a["name"]] = a.get("type", "text")
        elif tag == "button":
            if self._open is None:
                self.outside.append(a.get("id", ""))
            else:
                self._open.buttons[a.get("id", "")] = (a.get("name", ""), a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def forms_of(html: str) -> dict[str, HtmlForm]:
    reader = FormReader()
    reader.feed(html)
    assert reader.outside == [], f"buttons outside any form: {reader.outside}"
    return reader.forms


def press(page_url: str, form: HtmlForm, button: str, values: dict[str, str] | None = None) -> httpx.Response:
    """Submit `form` by `button`: its inputs as served, the values typed, and the button's name=value."""
    data = {**form.inputs, **(values or {})}
    name, value = form.buttons[button]
    if name:
        data[name] = value
    assert form.method == "post"
    return httpx.post(urljoin(page_url, form.action), data=data, timeout=5)


@dataclass
class Return:
    """Where the shopper landed back at the merchant."""

    url: str
    query: dict[str, list[str]]
    challenged: bool


# --- The merchant ------------------------------------------------------------------------------------


class Merchant:
    """A merchant's server talking to Kestrel, checking every answer against openapi.yaml."""

    def __init__(
        self, server: KestrelServer, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET
    ) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=5)
        token = self.token({"client_id": client_id, "client_secret": secret})
        assert token.status_code == 200, token.text
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def call(self, operation_id: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        kind = response.headers.get("content-type", "")
        body = response.json() if kind.startswith("application/json") else response.text
        violations = SPEC.validate_response(operation_id, response.status_code, kind, body)
        assert violations == [], [str(v) for v in violations]
        return response

    def token(self, form: dict[str, str], **kwargs: Any) -> httpx.Response:
        return self.call(
            "createToken",
            "POST",
            "/v1/oauth/token",
            data={"grant_type": "client_credentials", **form},
            **kwargs,
        )

    def create(
        self, amount: Any = 1050, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> httpx.Response:
        body = {
            "amount": amount,
            "currency": "EUR",
            "success_url": "https://shop.example/success?order=1",
            "cancel_url": "https://shop.example/cancel?order=1",
            "client_reference_id": "ORDER-1",
            **extra,
        }
        return self.call(
            "createCheckoutSession",
            "POST",
            "/v1/checkout/sessions",
            json=body,
            headers=headers or self.headers,
        )

    def session(self, session_id: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.call(
            "getCheckoutSession",
            "GET",
            f"/v1/checkout/sessions/{session_id}",
            headers=self.headers if headers is None else headers,
        )

    def status(self, session_id: str) -> str:
        status: str = self.session(session_id).json()["status"]
        return status

    def refund(self, session_id: str, amount: int | None = None, **extra: Any) -> httpx.Response:
        body: dict[str, Any] = {"session": session_id, **extra}
        if amount is not None:
            body["amount"] = amount
        return self.call("createRefund", "POST", "/v1/refunds", json=body, headers=self.headers)

    def configure(self, url: str, **extra: Any) -> httpx.Response:
        return self.call(
            "configureWebhookEndpoint",
            "PUT",
            "/v1/webhook_endpoint",
            json={"url": url, **extra},
            headers=self.headers,
        )

    def checkout(
        self,
        card: dict[str, str] | None,
        *,
        password: str | None = None,
        cancel_challenge: bool = False,
        amount: int = 1050,
    ) -> tuple[str, Return]:
        """Create a session and walk its hosted page (card None: the shopper cancels); its id and the return."""
        created = self.create(amount)
        assert created.status_code == 200, created.text
        session = created.json()
        page = httpx.get(session["url"], timeout=5)
        assert page.status_code == 200
        forms = forms_of(page.text)
        assert "cancel-button" not in forms["payment-form"].buttons, (
            "the cancel button must be in its own form"
        )
        assert "cancel-button" in forms["cancel-form"].buttons
        assert forms["payment-form"].kinds["csrf_token"] == "hidden"
        if card is None:
            answer = press(session["url"], forms["cancel-form"], "cancel-button")
        else:
            answer = press(session["url"], forms["payment-form"], "submit-button", card)
        assert answer.status_code == 303, answer.text
        challenged = answer.headers["location"].startswith("/c/authenticate/")
        if challenged:
            challenge_url = urljoin(session["url"], answer.headers["location"])
            challenge = httpx.get(challenge_url, timeout=5)
            assert challenge.status_code == 200
            page_forms = forms_of(challenge.text)
            assert page_forms["challenge-form"].kinds["password"] == "password"
            if cancel_challenge:
                answer = press(challenge_url, page_forms["challenge-cancel-form"], "challenge-cancel")
            else:
                assert password is not None, "the challenge needs a password"
                answer = press(
                    challenge_url, page_forms["challenge-form"], "challenge-submit", {"password": password}
                )
            assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
        assert urlsplit(location).netloc == "shop.example"
        return session["id"], Return(location, parse_qs(urlsplit(location).query), challenged)


@dataclass
class Kit:
    server: KestrelServer
    merchant: Merchant
    sink: WebhookSink

    def webhooks(self, about: str, count: int = 1, timeout: float = 5) -> list[Delivery]:
        """The deliveries whose body mentions `about` (a session or refund id), once `count` have come."""
        return self.sink.wait_for(count, timeout, predicate=lambda d: about.encode() in d.body)


Start = Callable[..., Kit]


def wait_until(condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Kits:
    """Starts Kestrel servers (fast retries), each with a merchant and a sink its webhooks go to."""

    def __init__(self) -> None:
        self.started: list[Kit] = []

    def __call__(self, **options: Any) -> Kit:
        sink = WebhookSink(hold_seconds=options.pop("hold_seconds", 30.0)).start()
        options.setdefault("retry_schedule", FAST_RETRIES)
        server = KestrelServer(webhook_url=f"{sink.url}/kestrel", **options).start()
        kit = Kit(server, Merchant(server), sink)
        self.started.append(kit)
        return kit

    def stop(self) -> None:
        for kit in self.started:
            kit.merchant.http.close()
            kit.server.stop()
            kit.sink.stop()


@pytest.fixture
def start() -> Iterator[Start]:
    """`start(no_retry=True)`: a server of this test's own, for faults and for what changes its set-up."""
    kits = Kits()
    yield kits
    kits.stop()


@pytest.fixture(scope="module")
def kit() -> Iterator[Kit]:
    """One correct server for the module: each test makes its own sessions, so none sees another's."""
    kits = Kits()
    yield kits()
    kits.stop()


# --- OAuth2 ------------------------------------------------------------------------------------------


def test_a_token_is_given_for_credentials_in_the_body_or_in_http_basic_and_expires(kit: Kit) -> None:
    merchant = kit.merchant
    by_form = merchant.token({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    by_basic = merchant.token({}, auth=(CLIENT_ID, CLIENT_SECRET))

    for answer in (by_form, by_basic):
        assert answer.status_code == 200
        assert answer.json()["token_type"] == "Bearer"
        assert answer.json()["expires_in"] == 3600
        assert answer.headers["cache-control"] == "no-store"
    assert by_form.json()["access_token"] != by_basic.json()["access_token"]


@pytest.mark.parametrize(
    ("form", "basic", "status", "error"),
    [
        ({"client_id": CLIENT_ID, "client_secret": "wrong"}, None, 401, "invalid_client"),
        ({"client_id": "kestrel_client_nobody", "client_secret": CLIENT_SECRET}, None, 401, "invalid_client"),
        ({"client_id": CLIENT_ID, "client_secret": OTHER_CLIENT_SECRET}, None, 401, "invalid_client"),
        ({}, (CLIENT_ID, "wrong"), 401, "invalid_client"),
        ({"client_id": CLIENT_ID}, None, 401, "invalid_client"),
        ({"client_secret": CLIENT_SECRET}, (CLIENT_ID, CLIENT_SECRET), 400, "invalid_request"),
        ({"grant_type": "password", "client_id": CLIENT_ID}, None, 400, "unsupported_grant_type"),
    ],
    ids=[
        "right-id-wrong-secret",
        "wrong-id-right-secret",
        "another-clients-secret",
        "basic-wrong-secret",
        "no-secret",
        "two-methods",
        "password-grant",
    ],
)
def test_a_token_request_with_any_one_thing_wrong_is_refused(
    kit: Kit, form: dict[str, str], basic: tuple[str, str] | None, status: int, error: str
) -> None:
    refused = kit.merchant.token(form, auth=basic) if basic else kit.merchant.token(form)

    assert refused.status_code == status
    assert refused.json()["error"] == error
    if status == 401:
        assert refused.headers["www-authenticate"] == 'Basic realm="kestrel"'


def test_a_token_request_must_be_form_encoded(kit: Kit) -> None:
    refused = kit.merchant.call(
        "createToken",
        "POST",
        "/v1/oauth/token",
        json={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"


def test_api_calls_need_a_valid_token_of_the_client_that_owns_the_object(kit: Kit) -> None:
    session_id, _ = kit.merchant.checkout(PAID)
    other = Merchant(kit.server, OTHER_CLIENT_ID, OTHER_CLIENT_SECRET)

    for headers, code in (
        ({}, "missing_token"),
        ({"Authorization": "Bearer kat_forged"}, "invalid_token"),
        (
            {"Authorization": "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()},
            "invalid_token",
        ),
    ):
        refused = kit.merchant.session(session_id, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == code
        assert refused.headers["www-authenticate"].startswith('Bearer realm="kestrel"')
    # Another client's token: the session and its refunds are not there for it.
    assert other.session(session_id).status_code == 404
    assert other.refund(session_id, 100).status_code == 404
    refund_id = kit.merchant.refund(session_id, 100).json()["id"]
    foreign = other.call("getRefund", "GET", f"/v1/refunds/{refund_id}", headers=other.headers)
    assert foreign.status_code == 404
    other.http.close()


def test_an_expired_token_is_refused(start: Start) -> None:
    kit = start(token_ttl_seconds=0.5)
    time.sleep(0.6)

    expired = kit.merchant.create()
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "token_expired"
    assert (
        kit.merchant.token({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}).json()["expires_in"] == 1
    )


# --- Creating sessions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (0, "amount_too_small"),
        (-500, "amount_too_small"),
        (10.5, "parameter_invalid_integer"),
        ("1050", "parameter_invalid_integer"),
        (True, "parameter_invalid_integer"),
        (None, "parameter_invalid_integer"),
        (100_000_000, "amount_too_large"),
    ],
)
def test_an_amount_that_is_not_positive_minor_units_within_the_maximum_is_refused_clearly(
    kit: Kit, amount: Any, code: str
) -> None:
    refused = kit.merchant.create(amount)

    assert refused.status_code == 400
    error = refused.json()["error"]
    assert (error["code"], error["param"], error["type"]) == (code, "amount", "invalid_request_error")
    if code == "amount_too_small":
        assert error["message"] == f"amount must be at least 1 (minor units); {amount} cannot be paid."


@pytest.mark.parametrize("amount", [1, 99_999_999, 1050.0])
def test_amounts_from_one_to_the_maximum_are_accepted_as_json_integers(kit: Kit, amount: Any) -> None:
    assert kit.merchant.create(amount).json()["amount_total"] == int(amount)  # 1050.0 is a JSON integer


@pytest.mark.parametrize(
    ("change", "code", "param"),
    [
        ({"surprise": 1}, "parameter_unknown", "surprise"),
        ({"currency": "EURO"}, "invalid_currency", "currency"),
        ({"success_url": "/relative"}, "url_invalid", "success_url"),
        ({"cancel_url": "ftp://shop.example/x"}, "url_invalid", "cancel_url"),
        ({"client_reference_id": ""}, "parameter_invalid_string", "client_reference_id"),
        ({"client_reference_id": None}, "parameter_invalid_string", "client_reference_id"),
        ({"metadata": {"k": 1}}, "parameter_invalid", "metadata"),
    ],
)
def test_a_session_body_with_a_wrong_field_is_refused_naming_it(
    kit: Kit, change: dict[str, Any], code: str, param: str
) -> None:
    refused = kit.merchant.create(**change)

    assert refused.status_code == 400
    assert (refused.json()["error"]["code"], refused.json()["error"]["param"]) == (code, param)


def test_a_missing_field_is_named(kit: Kit) -> None:
    refused = kit.merchant.call(
        "createCheckoutSession",
        "POST",
        "/v1/checkout/sessions",
        json={"amount": 100},
        headers=kit.merchant.headers,
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "parameter_missing"


def test_a_session_is_open_with_its_page_and_an_idempotent_retry_creates_nothing(kit: Kit) -> None:
    headers = {**kit.merchant.headers, "Idempotency-Key": "order-1-attempt-1"}
    first = kit.merchant.create(headers=headers)
    again = kit.merchant.create(headers=headers)
    other_body = kit.merchant.create(2000, headers=headers)

    session = first.json()
    assert (session["status"], session["payment_status"], session["currency"]) == ("open", "unpaid", "eur")
    assert (session["amount_total"], session["amount_refunded"]) == (1050, 0)
    assert session["url"] == f"{kit.server.base_url}/c/pay/{session['id']}"
    assert again.json() == session
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert other_body.status_code == 409
    assert other_body.json()["error"]["code"] == "idempotency_key_reused"
    assert kit.merchant.session(session["id"]).json() == session


# --- The hosted page ---------------------------------------------------------------------------------


def test_a_paid_session_is_complete_everywhere_and_its_webhook_verifies(kit: Kit) -> None:
    session_id, back = kit.merchant.checkout(PAID)

    assert back.url.startswith("https://shop.example/success?")
    assert back.query == {"order": ["1"], "session_id": [session_id], "redirect_status": ["complete"]}
    assert not schema_problems("/components/schemas/ReturnQuery", {k: v[0] for k, v in back.query.items()})
    session = kit.merchant.session(session_id).json()
    assert (session["status"], session["payment_status"], session["url"]) == ("complete", "paid", None)
    [webhook] = kit.webhooks(session_id)
    body = webhook.json()
    assert body["type"] == "checkout.session.completed"
    assert body["data"]["object"] == session
    assert verify_standard_webhook(WEBHOOK_SECRET, webhook.headers, webhook.body)
    assert webhook.headers["webhook-id"].startswith("msg_")
    assert webhook.headers["webhook-id"].encode() not in webhook.body, "the event id is only in the header"
    assert schema_problems(WEBHOOK_SCHEMA, body) == []
    assert webhook.path == "/kestrel"


def test_declined_cards_fail_the_session_and_return_to_the_cancel_url(kit: Kit) -> None:
    session_id, back = kit.merchant.checkout(DECLINED)

    assert back.url.startswith("https://shop.example/cancel?")
    assert back.query["redirect_status"] == ["failed"]
    session = kit.merchant.session(session_id).json()
    assert session["status"] == "failed"
    assert session["last_payment_error"]["code"] == "card_declined"
    [webhook] = kit.webhooks(session_id)
    assert webhook.json()["type"] == "checkout.session.failed"
    assert schema_problems(WEBHOOK_SCHEMA, webhook.json()) == []


@pytest.mark.parametrize(
    ("card", "code"),
    [
        ({**PAID, "cardNumber": "4000000000009995"}, "insufficient_funds"),
        ({**PAID, "cardExpiry": "01/23"}, "expired_card"),
    ],
)
def test_other_refusals_name_their_reason(kit: Kit, card: dict[str, str], code: str) -> None:
    session_id, _ = kit.merchant.checkout(card)
    assert kit.merchant.session(session_id).json()["last_payment_error"]["code"] == code


def test_card_data_that_cannot_be_tried_shows_the_form_again_and_leaves_the_session_open(kit: Kit) -> None:
    session = kit.merchant.create().json()
    forms = forms_of(httpx.get(session["url"], timeout=5).text)

    wrong = press(
        session["url"], forms["payment-form"], "submit-button", {**PAID, "cardNumber": "4242424242424241"}
    )
    assert wrong.status_code == 400
    assert "card number is invalid" in wrong.text
    assert "payment-form" in forms_of(wrong.text)
    assert kit.merchant.status(session["id"]) == "open"


def test_the_cancel_button_in_its_own_form_cancels_and_the_page_closes(kit: Kit) -> None:
    session_id, back = kit.merchant.checkout(None)

    assert back.url.startswith("https://shop.example/cancel?")
    assert back.query["redirect_status"] == ["canceled"]
    assert kit.merchant.status(session_id) == "canceled"
    [webhook] = kit.webhooks(session_id)
    assert webhook.json()["type"] == "checkout.session.canceled"
    assert httpx.get(f"{kit.server.base_url}/c/pay/{session_id}", timeout=5).status_code == 409


def test_a_form_posted_without_its_hidden_token_does_nothing(kit: Kit) -> None:
    session = kit.merchant.create().json()

    for path, data in (("/cancel", {}), ("", PAID), ("", {**PAID, "csrf_token": "forged"})):
        refused = httpx.post(f"{session['url']}{path}", data=data, timeout=5)
        assert refused.status_code == 403
    assert kit.merchant.status(session["id"]) == "open"


def test_the_3ds_card_is_challenged_and_completes_with_the_right_password(kit: Kit) -> None:
    session_id, back = kit.merchant.checkout(CHALLENGED, password="password")

    assert back.challenged
    assert back.query["redirect_status"] == ["complete"]
    assert kit.merchant.status(session_id) == "complete"


@pytest.mark.parametrize(
    ("password", "cancel", "code"),
    [("not-the-password", False, "authentication_failed"), (None, True, "authentication_canceled")],
)
def test_a_failed_or_canceled_challenge_fails_the_session(
    kit: Kit, password: str | None, cancel: bool, code: str
) -> None:
    session_id, back = kit.merchant.checkout(CHALLENGED, password=password, cancel_challenge=cancel)

    assert back.challenged
    assert back.query["redirect_status"] == ["failed"]
    session = kit.merchant.session(session_id).json()
    assert (session["status"], session["last_payment_error"]["code"]) == ("failed", code)
    assert kit.webhooks(session_id)[0].json()["type"] == "checkout.session.failed"


def test_an_open_session_expires_by_api(kit: Kit) -> None:
    session_id = kit.merchant.create().json()["id"]
    path = f"/v1/checkout/sessions/{session_id}/expire"

    expired = kit.merchant.call("expireCheckoutSession", "POST", path, headers=kit.merchant.headers)
    again = kit.merchant.call("expireCheckoutSession", "POST", path, headers=kit.merchant.headers)

    assert (expired.json()["status"], expired.json()["url"]) == ("expired", None)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "session_not_open")
    [webhook] = kit.webhooks(session_id)
    assert webhook.json()["type"] == "checkout.session.expired"
    assert httpx.get(f"{kit.server.base_url}/c/pay/{session_id}", timeout=5).status_code == 409


def test_an_open_session_expires_by_time(start: Start) -> None:
    kit = start(session_ttl_seconds=0.5)
    session_id = kit.merchant.create().json()["id"]

    [webhook] = kit.webhooks(session_id)  # the server notices by itself: nobody has to look
    assert webhook.json()["type"] == "checkout.session.expired"
    assert webhook.json()["data"]["object"]["status"] == "expired"
    assert kit.merchant.status(session_id) == "expired"


# --- Refunds -----------------------------------------------------------------------------------------


def test_refunds_show_only_as_an_amount_and_never_exceed_what_was_paid(kit: Kit) -> None:
    session_id, _ = kit.merchant.checkout(PAID)

    partial = kit.merchant.refund(session_id, 400, reason="requested_by_customer")
    over = kit.merchant.refund(session_id, 651)
    rest = kit.merchant.refund(session_id)  # no amount: all that is left
    twice = kit.merchant.refund(session_id, 1)

    assert partial.status_code == 200
    assert partial.json()["amount"] == 400
    assert partial.json()["session"] == session_id
    assert partial.json()["status"] == "succeeded"
    assert (over.status_code, over.json()["error"]["code"]) == (400, "refund_exceeds_remaining")
    assert rest.json()["amount"] == 650
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "session_already_refunded")
    session = kit.merchant.session(session_id).json()
    assert (session["status"], session["payment_status"]) == ("complete", "paid")
    assert (session["amount_total"], session["amount_refunded"]) == (1050, 1050)
    read = kit.merchant.call(
        "getRefund", "GET", f"/v1/refunds/{partial.json()['id']}", headers=kit.merchant.headers
    )
    assert read.json() == partial.json()


def test_a_refund_webhook_names_the_refund_and_points_at_its_session(kit: Kit) -> None:
    session_id, _ = kit.merchant.checkout(PAID)
    refund = kit.merchant.refund(session_id, 300).json()

    [webhook] = kit.webhooks(refund["id"])
    body = webhook.json()
    assert body["type"] == "refund.succeeded"
    assert body["data"]["object"] == refund
    assert body["data"]["object"]["session"] == session_id
    assert verify_standard_webhook(WEBHOOK_SECRET, webhook.headers, webhook.body)
    assert schema_problems(WEBHOOK_SCHEMA, body) == []
    assert schema_problems("/components/schemas/RefundEvent", body) == []


def test_an_unpaid_session_cannot_be_refunded(kit: Kit) -> None:
    open_session = kit.merchant.create().json()["id"]
    declined, _ = kit.merchant.checkout(DECLINED)

    for session_id in (open_session, declined):
        refused = kit.merchant.refund(session_id, 100)
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, "session_not_paid")
    assert kit.merchant.refund("cs_test_nothing", 100).status_code == 404


# --- Webhook delivery --------------------------------------------------------------------------------


def test_the_webhook_endpoint_is_configured_by_api_on_loopback_only(start: Start) -> None:
    kit = start()
    refused = kit.merchant.configure("https://hooks.example.com/kestrel")
    set_ = kit.merchant.configure(f"{kit.sink.url}/by-api", enabled_events=["refund.succeeded"])
    read = kit.merchant.call(
        "getWebhookEndpoint", "GET", "/v1/webhook_endpoint", headers=kit.merchant.headers
    )

    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "url_invalid")
    assert set_.json() == read.json()
    assert read.json()["url"] == f"{kit.sink.url}/by-api"
    session_id, _ = kit.merchant.checkout(PAID)
    refund_id = kit.merchant.refund(session_id).json()["id"]
    [webhook] = kit.webhooks(refund_id)
    assert webhook.path == "/by-api"
    time.sleep(0.3)
    assert [d.json()["type"] for d in kit.sink.deliveries] == ["refund.succeeded"]


def test_a_refused_webhook_is_retried_on_the_schedule_with_the_same_id(start: Start) -> None:
    kit = start()
    kit.sink.fail_next(1, mode="status", status=500)
    kit.sink.fail_next(1, mode="drop")
    session_id, _ = kit.merchant.checkout(PAID)

    first, second, third = kit.webhooks(session_id, count=3)
    assert [first.answer, second.answer, third.answer] == ["500", "drop", "200"]
    assert len({d.headers["webhook-id"] for d in (first, second, third)}) == 1
    assert first.body == second.body == third.body
    assert all(verify_standard_webhook(WEBHOOK_SECRET, d.headers, d.body) for d in (first, second, third))
    # Never before its time; the upper bounds are loose because the machine may be busy.
    assert 0.18 <= second.received_at - first.received_at <= 3.0
    assert 0.38 <= third.received_at - second.received_at <= 3.0
    time.sleep(1.0)
    assert len(kit.webhooks(session_id)) == 3, "a delivered webhook is not sent again"


def test_a_webhook_not_answered_in_time_is_retried(start: Start) -> None:
    kit = start(webhook_timeout=0.5, hold_seconds=2.0)
    kit.sink.fail_next(1, mode="timeout")
    session_id, _ = kit.merchant.checkout(PAID)

    first, second = kit.webhooks(session_id, count=2)
    assert [first.answer, second.answer] == ["timeout", "200"]
    [message] = kit.server.messages
    wait_until(lambda: message.finished)
    assert [a.answer for a in message.attempts] == ["ReadTimeout", "200"]


def test_a_webhook_is_given_up_after_the_fifth_attempt(start: Start) -> None:
    kit = start(retry_schedule=(0.1, 0.1, 0.1, 0.1))
    kit.sink.fail_next(10, mode="status", status=503)
    session_id, _ = kit.merchant.checkout(PAID)

    [message] = kit.server.messages
    wait_until(lambda: message.finished)
    time.sleep(0.3)
    assert len(kit.webhooks(session_id, count=5)) == 5
    assert message.given_up
    assert [a.answer for a in message.attempts] == ["503"] * 5


def test_webhooks_go_nowhere_but_loopback(start: Start) -> None:
    kit = start()
    kit.server.set_webhook_url("http://192.0.2.10/kestrel")  # TEST-NET-1: never reachable
    session_id, _ = kit.merchant.checkout(PAID)

    wait_until(lambda: bool(kit.server.messages) and kit.server.messages[0].finished)
    assert [a.answer for a in kit.server.messages[0].attempts] == ["blocked"]
    assert kit.sink.deliveries == []
    assert kit.merchant.status(session_id) == "complete"


# --- Seeded faults -----------------------------------------------------------------------------------


def test_each_fault_is_a_constructor_flag_documented_in_the_readme() -> None:
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    assert len(Faults.names()) == 14
    for name in Faults.names():
        assert f"`{name}`" in readme, name
    with pytest.raises(TypeError):
        KestrelServer(no_such_fault=True)


def test_fault_wrong_secret_accepted(start: Start) -> None:
    kit = start(wrong_secret_accepted=True)
    assert kit.merchant.token({"client_id": CLIENT_ID, "client_secret": "anything"}).status_code == 200
    assert kit.merchant.token({}, auth=(CLIENT_ID, "anything")).status_code == 200
    assert kit.merchant.token({"client_id": "nobody", "client_secret": "anything"}).status_code == 401


def test_fault_wrong_client_id_accepted(start: Start) -> None:
    kit = start(wrong_client_id_accepted=True)
    assert kit.merchant.token({"client_id": "nobody", "client_secret": CLIENT_SECRET}).status_code == 200
    assert kit.merchant.token({"client_id": CLIENT_ID, "client_secret": "anything"}).status_code == 401


def test_fault_double_refund_accepted(start: Start) -> None:
    kit = start(double_refund_accepted=True)
    session_id, _ = kit.merchant.checkout(PAID)
    assert kit.merchant.refund(session_id, 1051).status_code == 400  # over-refunds are still refused
    assert kit.merchant.refund(session_id).status_code == 200
    assert kit.merchant.refund(session_id).status_code == 200
    assert kit.merchant.session(session_id).json()["amount_refunded"] == 2100


def test_fault_over_refund_accepted(start: Start) -> None:
    kit = start(over_refund_accepted=True)
    session_id, _ = kit.merchant.checkout(PAID)
    assert kit.merchant.refund(session_id, 1051).status_code == 200
    assert kit.merchant.refund(session_id, 1).status_code == 409  # a fully refunded one is still refused


def test_fault_cancel_ends_failed(start: Start) -> None:
    kit = start(cancel_ends_failed=True)
    session_id, back = kit.merchant.checkout(None)
    assert back.query["redirect_status"] == ["failed"]
    assert kit.merchant.status(session_id) == "failed"
    assert kit.webhooks(session_id)[0].json()["type"] == "checkout.session.failed"


def test_fault_decline_ends_complete(start: Start) -> None:
    kit = start(decline_ends_complete=True)
    session_id, back = kit.merchant.checkout(DECLINED)
    assert back.query["redirect_status"] == ["complete"]
    assert kit.merchant.status(session_id) == "complete"


def test_fault_three_ds_skipped(start: Start) -> None:
    kit = start(three_ds_skipped=True)
    session_id, back = kit.merchant.checkout(CHALLENGED, password="not-the-password")
    assert not back.challenged
    assert kit.merchant.status(session_id) == "complete"


def test_fault_unsigned_webhooks(start: Start) -> None:
    kit = start(unsigned_webhooks=True)
    session_id, _ = kit.merchant.checkout(PAID)
    [webhook] = kit.webhooks(session_id)
    assert "webhook-signature" not in webhook.headers
    assert "webhook-id" in webhook.headers
    assert not verify_standard_webhook(WEBHOOK_SECRET, webhook.headers, webhook.body)


def test_fault_wrong_signature_secret(start: Start) -> None:
    kit = start(wrong_signature_secret=True)
    session_id, _ = kit.merchant.checkout(PAID)
    [webhook] = kit.webhooks(session_id)
    assert not verify_standard_webhook(WEBHOOK_SECRET, webhook.headers, webhook.body)
    assert verify_standard_webhook(WRONG_WEBHOOK_SECRET, webhook.headers, webhook.body)


@pytest.mark.parametrize(("fault", "attempts"), [("no_retry", 1), ("retries_stop_early", 3)])
def test_fault_in_the_retries(start: Start, fault: str, attempts: int) -> None:
    kit = start(retry_schedule=(0.1, 0.1, 0.1, 0.1), **{fault: True})
    kit.sink.fail_next(10, mode="status", status=500)
    session_id, _ = kit.merchant.checkout(PAID)

    [message] = kit.server.messages
    wait_until(lambda: message.finished)
    assert (len(message.attempts), message.given_up) == (attempts, True)
    assert len(kit.webhooks(session_id, count=attempts)) == attempts
    assert kit.server.max_attempts == attempts


def test_fault_zero_amount_accepted(start: Start) -> None:
    kit = start(zero_amount_accepted=True)
    created = kit.merchant.http.post(
        "/v1/checkout/sessions",
        json={
            "amount": 0,
            "currency": "EUR",
            "success_url": "https://s.example/",
            "cancel_url": "https://s.example/",
        },
        headers=kit.merchant.headers,
    )
    assert created.status_code == 200
    assert created.json()["amount_total"] == 0
    assert kit.merchant.create(-1).status_code == 400


def test_fault_status_without_token(start: Start) -> None:
    kit = start(status_without_token=True)
    session_id = kit.merchant.create().json()["id"]
    assert httpx.get(f"{kit.server.base_url}/v1/checkout/sessions/{session_id}", timeout=5).status_code == 200
    forged = {"Authorization": "Bearer kat_forged"}
    assert kit.merchant.session(session_id, headers=forged).status_code == 401


def test_fault_renamed_response_field(start: Start) -> None:
    kit = start(renamed_response_field=True)
    answer = kit.merchant.http.post(
        "/v1/checkout/sessions",
        json={
            "amount": 1050,
            "currency": "EUR",
            "success_url": "https://s.example/",
            "cancel_url": "https://s.example/",
        },
        headers=kit.merchant.headers,
    )
    assert answer.json()["total"] == 1050
    assert "amount_total" not in answer.json()
    violations = SPEC.validate_response("createCheckoutSession", 200, "application/json", answer.json())
    assert violations, "the renamed field must break the documented schema"


# --- A real browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the module's browser tests (each gets a fresh page and context)."""
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("journey", "status"),
    [("pay", "complete"), ("cancel", "canceled"), ("challenge", "complete"), ("cancel challenge", "failed")],
)
def test_chromium_fills_the_pages_and_clicks_the_buttons_where_they_are(
    kit: Kit, chromium: Any, journey: str, status: str
) -> None:
    """HTML5 validation, the cancel button in its own form and the 3-D Secure page, as a person sees them."""
    from playwright.sync_api import Route

    session = kit.merchant.create().json()
    landed: list[str] = []

    def back(route: Route) -> None:
        landed.append(route.request.url)
        route.fulfill(body="back at the shop")

    context = chromium.new_context()
    try:
        page = context.new_page()
        page.route("https://shop.example/**", back)
        page.goto(session["url"])
        if journey == "cancel":
            page.click("#cancel-button")
        else:
            number = CHALLENGED["cardNumber"] if "challenge" in journey else PAID["cardNumber"]
            for name, value in {**PAID, "cardNumber": number, "cardExpiry": "12/34"}.items():
                page.fill(f"#payment-form [name={name}]", value)
            page.click("#submit-button")
            if "challenge" in journey:
                page.wait_for_selector("#challenge-form")
                if journey == "cancel challenge":
                    page.click("#challenge-cancel")
                else:
                    page.fill("#challenge-form [name=password]", "password")
                    page.click("#challenge-submit")
        page.wait_for_url("https://shop.example/**")
    finally:
        context.close()

    [url] = landed
    assert parse_qs(urlsplit(url).query)["redirect_status"] == [status]
    assert kit.merchant.status(session["id"]) == status


# --- The spec, as paycert's generated contract run checks it ------------------------------------------


@pytest.mark.slow
def test_the_spec_describes_every_answer_of_the_correct_server() -> None:
    """schemathesis through paycert's contract engine: examples, coverage, fuzzing and the stateful links."""
    from paycert.plugin.contract_engine import ContractSettings, run_contract

    with KestrelServer() as server:
        token = httpx.post(
            f"{server.base_url}/v1/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(CLIENT_ID, CLIENT_SECRET),
            timeout=5,
        ).json()["access_token"]
        run = run_contract(
            DOCUMENT,
            server.base_url,
            {"Authorization": f"Bearer {token}"},
            ContractSettings(examples=5, seed=7),
            deadline=time.monotonic() + 240,
            never=frozenset({"createToken"}),
            credentials=server.credentials,
            location=str(HERE / "openapi.yaml"),
        )
    found = {
        c: [f"{f.curl} -> {f.status} {f.response_body[:300]}: {f.message[:200]}" for f in fs]
        for c, fs in run.findings.items()
    }
    assert found == {}
    assert run.tool_errors == []
    assert run.untested == []
    assert "stateful" in run.phases_done
