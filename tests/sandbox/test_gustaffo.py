"""The gustaffo sandbox against seed 000: token, create, hosted page, 3-D Secure, status, expiry, refunds.

Every test talks to a real sandbox on loopback with plain httpx, and drives the hosted page as a shopper
would: read the HTML form, post its fields. Webhooks are in test_gustaffo_webhooks.py, which reuses the
client below.
"""

from __future__ import annotations

import ssl
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

from paycert.sandbox import SandboxConfig, SandboxServer
from paycert.sandbox.gateways.gustaffo import CREDENTIALS
from tests.conftest import StartSandbox

SPEC_DIR = Path(__file__).resolve().parents[2] / "specs" / "gustaffo"
VISA = "4111111111111111"
MASTERCARD = "5555555555554444"  # paycert's decision: the card that always asks for 3-D Secure
AMEX = "378282246310005"
FUTURE = "12/30"


# ---------------------------------------------------------------------------------------------- helpers


@dataclass
class Form:
    id: str
    action: str
    method: str
    inputs: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("id", ""), a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].inputs[a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))


def only_form(response: httpx.Response) -> Form:
    parser = _FormParser()
    parser.feed(response.text)
    assert len(parser.forms) == 1, f"expected one form on {response.url}, found {len(parser.forms)}"
    return parser.forms[0]


class Gustaffo:
    """A thin test client: the calls a merchant makes, and the clicks a shopper makes."""

    def __init__(self, base_url: str, verify: ssl.SSLContext | bool = True) -> None:
        self.sandbox = base_url
        self.http = httpx.Client(base_url=f"{base_url}/gustaffo", timeout=10.0, verify=verify)
        self._token: str | None = None

    def token_response(self, client_id: str, client_secret: str) -> httpx.Response:
        data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        return self.http.post("/oauth/token", data=data)

    @property
    def auth(self) -> dict[str, str]:
        if self._token is None:
            answer = self.token_response(CREDENTIALS["client_id"], CREDENTIALS["client_secret"])
            assert answer.status_code == 200, answer.text
            self._token = answer.json()["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def create(self, amount: Any = 25.5, *, key: str | None = None, **extra: Any) -> httpx.Response:
        body = {
            "amount": amount,
            "currency": "EUR",
            "orderId": "order-1001",
            "description": "Room 12, 2 nights",
            "returnUrl": "https://merchant.example/return?cart=7",
            "customer": {"email": "guest@example.com", "name": "Ada Guest"},
            **extra,
        }
        headers = dict(self.auth)
        if key:
            headers["Idempotency-Key"] = key
        return self.http.post("/api/v1/payments", json=body, headers=headers)

    def created(self, amount: Any = 25.5, **extra: Any) -> dict[str, Any]:
        answer = self.create(amount, **extra)
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def status(self, payment_id: str) -> httpx.Response:
        return self.http.get(f"/api/v1/payments/{payment_id}", headers=self.auth)

    def refund(self, payment_id: str, amount: float | None = None) -> httpx.Response:
        body = {} if amount is None else {"amount": amount}
        return self.http.post(f"/api/v1/payments/{payment_id}/refunds", json=body, headers=self.auth)

    def register(self, url: str, events: list[str] | None = None) -> dict[str, Any]:
        events = events or ["payment.completed", "payment.failed", "payment.cancelled", "payment.refunded"]
        answer = self.http.post("/api/v1/webhooks", json={"url": url, "events": events}, headers=self.auth)
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def advance_clock(self, seconds: float) -> None:
        answer = httpx.post(f"{self.sandbox}/_sandbox/clock/advance", json={"seconds": seconds}, timeout=10)
        assert answer.status_code == 200, answer.text

    # The shopper --------------------------------------------------------------------------------------

    def submit(self, page_url: str, fields: dict[str, str], action: str = "pay") -> httpx.Response:
        page = httpx.get(page_url, timeout=10)
        assert page.status_code == 200, page.text
        form = only_form(page)
        assert form.method == "post"
        assert set(fields) <= set(form.inputs), f"{sorted(fields)} not all in the form {sorted(form.inputs)}"
        assert ("action", action) in form.buttons, form.buttons
        return httpx.post(urljoin(page_url, form.action), data={**fields, "action": action}, timeout=10)

    def pay(
        self, payment: dict[str, Any], number: str, expiry: str = FUTURE, cvv: str = "123"
    ) -> httpx.Response:
        card = {"cardNumber": number, "expiryDate": expiry, "cvv": cvv, "cardholderName": "Ada Guest"}
        return self.submit(payment["redirectUrl"], card)

    def authenticate(self, challenge_url: str, password: str, action: str = "submit") -> httpx.Response:
        return self.submit(challenge_url, {"password": password}, action=action)


def returned(response: httpx.Response, merchant: str = "https://merchant.example/return") -> dict[str, str]:
    """The query the shopper's browser is sent back to the merchant with (303 See Other)."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{merchant}?"), location
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query.pop("cart") == "7", "the merchant's own query was not kept"
    return query


@pytest.fixture(scope="module")
def shared_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """One correct sandbox for the tests that neither move its clock nor register webhooks (fast)."""
    server = SandboxServer(SandboxConfig(tmp_path_factory.mktemp("gustaffo-shared"))).start()
    yield server
    server.stop()


@pytest.fixture
def gustaffo(shared_sandbox: SandboxServer) -> Iterator[Gustaffo]:
    client = Gustaffo(shared_sandbox.base_url)
    yield client
    client.http.close()


@pytest.fixture
def fresh(start_sandbox: StartSandbox) -> Iterator[Gustaffo]:
    """A sandbox of the test's own: its clock can move and its webhook registrations reach only its sink."""
    client = Gustaffo(start_sandbox().base_url)
    yield client
    client.http.close()


# ------------------------------------------------------------------------------------------ auth


def test_wrong_credentials_get_401_invalid_client_credentials(gustaffo: Gustaffo) -> None:
    answer = gustaffo.token_response(CREDENTIALS["client_id"], "not-the-secret")
    assert answer.status_code == 401
    assert answer.json()["message"] == "Invalid client credentials"


def test_token_by_http_basic_is_a_bearer_token_for_an_hour(gustaffo: Gustaffo) -> None:
    answer = gustaffo.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(CREDENTIALS["client_id"], CREDENTIALS["client_secret"]),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) >= 32


def test_api_calls_need_a_valid_unexpired_token(fresh: Gustaffo) -> None:
    gustaffo = fresh
    payment = gustaffo.created()
    url = f"/api/v1/payments/{payment['paymentId']}"
    assert gustaffo.http.get(url).status_code == 401
    assert gustaffo.http.get(url, headers={"Authorization": "Bearer forged"}).status_code == 401
    assert gustaffo.status(payment["paymentId"]).status_code == 200
    gustaffo.advance_clock(3601)
    expired = gustaffo.status(payment["paymentId"])
    assert expired.status_code == 401
    assert expired.json()["error"] == "invalid_token"


def test_no_auth_fault_serves_the_api_without_a_token(faulty_gustaffo: Callable[..., Gustaffo]) -> None:
    gustaffo: Gustaffo = faulty_gustaffo("no-auth")
    answer = gustaffo.http.get("/api/v1/payments/pay_unknown")
    assert answer.status_code == 404  # reached the handler: no 401
    # The token endpoint still checks credentials.
    assert gustaffo.token_response("gustaffo-sandbox", "wrong").status_code == 401


# ------------------------------------------------------------------------------------------ create


@pytest.mark.parametrize("amount", [0, -1, -10])
def test_non_positive_amounts_are_rejected(gustaffo: Gustaffo, amount: int) -> None:
    answer = gustaffo.create(amount)
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_amount", "message": "Invalid payment amount"}


@pytest.mark.parametrize("amount", [0.004, 1000000.01, 10**400, "10.00"])
def test_amounts_below_a_cent_above_the_cap_or_not_numbers_are_rejected(
    gustaffo: Gustaffo, amount: Any
) -> None:
    answer = gustaffo.create(amount)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_amount"
    assert answer.json()["message"].startswith("Invalid payment amount")


def test_amounts_are_rounded_half_up_to_the_cent(gustaffo: Gustaffo) -> None:
    assert gustaffo.created(10.005)["amount"] == 10.01
    assert gustaffo.created(19.990000000000002)["amount"] == 19.99


def test_accept_bad_amount_fault_creates_zero_and_negative_payments(
    faulty_gustaffo: Callable[..., Gustaffo],
) -> None:
    gustaffo: Gustaffo = faulty_gustaffo("accept-bad-amount")
    assert gustaffo.create(0).status_code == 201
    assert gustaffo.create(-1).status_code == 201


def test_create_answers_a_pending_payment_with_a_hosted_page(gustaffo: Gustaffo) -> None:
    payment = gustaffo.created(25.5)
    assert payment["status"] == "PENDING"
    assert payment["amount"] == 25.5
    assert payment["currency"] == "EUR"
    assert payment["orderId"] == "order-1001"
    assert payment["redirectUrl"].startswith(f"{gustaffo.sandbox}/gustaffo/")
    assert payment["paymentId"] in payment["redirectUrl"]


def test_over_https_the_hosted_page_is_https_too(start_sandbox: StartSandbox) -> None:
    server = start_sandbox(tls=True)
    gustaffo = Gustaffo(server.base_url, verify=ssl.create_default_context(cafile=server.ca_file))
    payment = gustaffo.created()
    assert payment["redirectUrl"].startswith(f"{server.base_url}/gustaffo/checkout/")
    assert server.base_url.startswith("https://")
    gustaffo.http.close()


def test_same_idempotency_key_gives_the_same_payment_and_another_body_is_refused(gustaffo: Gustaffo) -> None:
    first = gustaffo.create(12, key="order-1001-attempt-1")
    again = gustaffo.create(12, key="order-1001-attempt-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    other = gustaffo.create(13, key="order-1001-attempt-1")
    assert other.status_code == 422
    assert gustaffo.create(12, key="order-1001-attempt-2").json()["paymentId"] != first.json()["paymentId"]


def test_schema_drift_fault_renames_the_payment_id(faulty_gustaffo: Callable[..., Gustaffo]) -> None:
    gustaffo: Gustaffo = faulty_gustaffo("schema-drift")
    created = gustaffo.created()
    assert "paymentId" not in created
    status = gustaffo.status(created["payment_id"]).json()
    assert "paymentId" not in status
    assert status["payment_id"] == created["payment_id"]


# ------------------------------------------------------------------------------------------ hosted page


@pytest.mark.parametrize(("number", "cvv"), [(VISA, "123"), (AMEX, "1234")])
def test_frictionless_cards_complete_and_return_to_the_merchant(
    gustaffo: Gustaffo, number: str, cvv: str
) -> None:
    payment = gustaffo.created()
    result = returned(gustaffo.pay(payment, number, cvv=cvv))
    assert result == {"paymentId": payment["paymentId"], "status": "COMPLETED"}
    status = gustaffo.status(payment["paymentId"]).json()
    assert status["status"] == "COMPLETED"
    assert status["refundedAmount"] == 0


def test_visa_with_expiry_01_23_fails(gustaffo: Gustaffo) -> None:
    payment = gustaffo.created()
    assert returned(gustaffo.pay(payment, VISA, expiry="01/23"))["status"] == "FAILED"
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "FAILED"


def test_an_unknown_card_fails(gustaffo: Gustaffo) -> None:
    payment = gustaffo.created()
    assert returned(gustaffo.pay(payment, "4000000000000002"))["status"] == "FAILED"


def test_a_malformed_expiry_shows_the_form_again(gustaffo: Gustaffo) -> None:
    payment = gustaffo.created()
    answer = gustaffo.pay(payment, VISA, expiry="13/99")
    assert answer.status_code == 400
    assert only_form(answer).id == "gustaffo-payment-form"
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "PENDING"


def test_cancel_on_the_hosted_page_returns_cancelled(gustaffo: Gustaffo) -> None:
    payment = gustaffo.created()
    result = returned(gustaffo.submit(payment["redirectUrl"], {}, action="cancel"))
    assert result["status"] == "CANCELLED"
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "CANCELLED"


def test_a_finished_payment_cannot_be_paid_again(gustaffo: Gustaffo) -> None:
    payment = gustaffo.created()
    returned(gustaffo.pay(payment, VISA))
    assert httpx.get(payment["redirectUrl"]).status_code == 409
    again = httpx.post(payment["redirectUrl"], data={"cardNumber": VISA, "expiryDate": FUTURE, "cvv": "123"})
    assert again.status_code == 409
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "COMPLETED"


def _challenge(gustaffo: Gustaffo, payment: dict[str, Any]) -> str:
    answer = gustaffo.pay(payment, MASTERCARD)
    assert answer.status_code == 303
    challenge_url = answer.headers["location"]
    assert challenge_url.startswith(f"{gustaffo.sandbox}/gustaffo/"), challenge_url
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "AWAITING_3DS"
    return challenge_url


def test_3ds_challenge_with_password1_completes(gustaffo: Gustaffo) -> None:
    payment = gustaffo.created()
    challenge_url = _challenge(gustaffo, payment)
    assert "password" in only_form(httpx.get(challenge_url)).inputs
    assert returned(gustaffo.authenticate(challenge_url, "password1"))["status"] == "COMPLETED"
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "COMPLETED"


def test_3ds_challenge_with_a_wrong_password_fails(gustaffo: Gustaffo) -> None:
    payment = gustaffo.created()
    challenge_url = _challenge(gustaffo, payment)
    assert returned(gustaffo.authenticate(challenge_url, "password2"))["status"] == "FAILED"
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "FAILED"


def test_3ds_challenge_can_be_cancelled(gustaffo: Gustaffo) -> None:
    payment = gustaffo.created()
    challenge_url = _challenge(gustaffo, payment)
    assert returned(gustaffo.authenticate(challenge_url, "", action="cancel"))["status"] == "CANCELLED"


def test_skip_3ds_fault_completes_the_challenge_card_without_a_challenge(
    faulty_gustaffo: Callable[..., Gustaffo],
) -> None:
    gustaffo: Gustaffo = faulty_gustaffo("skip-3ds")
    payment = gustaffo.created()
    assert returned(gustaffo.pay(payment, MASTERCARD))["status"] == "COMPLETED"


def test_failed_payments_say_why(gustaffo: Gustaffo) -> None:
    declined = gustaffo.created()
    returned(gustaffo.pay(declined, VISA, expiry="01/23"))
    assert gustaffo.status(declined["paymentId"]).json()["failureReason"] == "CARD_DECLINED"
    challenged = gustaffo.created()
    returned(gustaffo.authenticate(_challenge(gustaffo, challenged), "wrong"))
    assert gustaffo.status(challenged["paymentId"]).json()["failureReason"] == "AUTHENTICATION_FAILED"
    assert "failureReason" not in gustaffo.status(gustaffo.created()["paymentId"]).json()


def test_wrong_status_fault_reports_a_declined_card_as_completed(
    faulty_gustaffo: Callable[..., Gustaffo],
) -> None:
    gustaffo: Gustaffo = faulty_gustaffo("wrong-status")
    payment = gustaffo.created()
    assert returned(gustaffo.pay(payment, VISA, expiry="01/23"))["status"] == "FAILED"
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "COMPLETED"
    # Only the card decline is misreported: a failed challenge is still FAILED (that is PAY-3DS's fault).
    challenged = gustaffo.created()
    returned(gustaffo.authenticate(_challenge(gustaffo, challenged), "wrong"))
    assert gustaffo.status(challenged["paymentId"]).json()["status"] == "FAILED"


def test_any_3ds_password_fault_lets_a_wrong_password_pass(faulty_gustaffo: Callable[..., Gustaffo]) -> None:
    gustaffo: Gustaffo = faulty_gustaffo("any-3ds-password")
    payment = gustaffo.created()
    assert returned(gustaffo.authenticate(_challenge(gustaffo, payment), "wrong"))["status"] == "COMPLETED"
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "COMPLETED"


def test_wrong_return_status_fault_sends_a_paid_shopper_back_as_failed(
    faulty_gustaffo: Callable[..., Gustaffo],
) -> None:
    gustaffo: Gustaffo = faulty_gustaffo("wrong-return-status")
    payment = gustaffo.created()
    assert returned(gustaffo.pay(payment, VISA))["status"] == "FAILED"
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "COMPLETED"


@pytest.mark.parametrize("challenged", [False, True])
def test_cancel_ignored_fault_leaves_the_payment_open(
    faulty_gustaffo: Callable[..., Gustaffo], challenged: bool
) -> None:
    gustaffo: Gustaffo = faulty_gustaffo("cancel-ignored")
    payment = gustaffo.created()
    if challenged:
        answer = gustaffo.authenticate(_challenge(gustaffo, payment), "", action="cancel")
    else:
        answer = gustaffo.submit(payment["redirectUrl"], {}, action="cancel")
    assert returned(answer)["status"] == "CANCELLED"
    open_status = "AWAITING_3DS" if challenged else "PENDING"
    assert gustaffo.status(payment["paymentId"]).json()["status"] == open_status


# ------------------------------------------------------------------------------------------ status, expiry


def test_an_unknown_payment_is_404(gustaffo: Gustaffo) -> None:
    answer = gustaffo.status("pay_0000000000000000")
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


def test_an_unpaid_payment_expires_after_30_minutes(fresh: Gustaffo) -> None:
    gustaffo = fresh
    payment = gustaffo.created()
    gustaffo.advance_clock(29 * 60)
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "PENDING"
    gustaffo.advance_clock(2 * 60)
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "EXPIRED"
    assert httpx.get(payment["redirectUrl"]).status_code == 409


# ------------------------------------------------------------------------------------------ refunds


def paid_payment(gustaffo: Gustaffo, amount: float = 100) -> str:
    payment = gustaffo.created(amount)
    returned(gustaffo.pay(payment, VISA))
    return str(payment["paymentId"])


def test_partial_then_full_refund(gustaffo: Gustaffo) -> None:
    payment_id = paid_payment(gustaffo, 100)
    first = gustaffo.refund(payment_id, 30)
    assert first.status_code == 201, first.text
    assert first.json()["amount"] == 30
    assert first.json()["status"] == "PARTIALLY_REFUNDED"
    assert gustaffo.status(payment_id).json()["refundedAmount"] == 30
    rest = gustaffo.refund(payment_id)  # no amount: what remains
    assert rest.status_code == 201, rest.text
    assert rest.json()["amount"] == 70
    status = gustaffo.status(payment_id).json()
    assert (status["status"], status["refundedAmount"]) == ("REFUNDED", 100)


def test_refund_over_the_remaining_amount_is_rejected(gustaffo: Gustaffo) -> None:
    payment_id = paid_payment(gustaffo, 100)
    assert gustaffo.refund(payment_id, 60).status_code == 201
    over = gustaffo.refund(payment_id, 50)
    assert over.status_code == 400
    assert "exceeds" in over.json()["message"]
    assert gustaffo.status(payment_id).json()["refundedAmount"] == 60


def test_a_refunded_payment_cannot_be_refunded_again(gustaffo: Gustaffo) -> None:
    payment_id = paid_payment(gustaffo, 100)
    assert gustaffo.refund(payment_id).status_code == 201
    again = gustaffo.refund(payment_id)
    assert again.status_code == 409
    assert again.json()["message"] == "Payment already refunded"


def test_an_unpaid_payment_cannot_be_refunded(gustaffo: Gustaffo) -> None:
    payment = gustaffo.created()
    assert gustaffo.refund(payment["paymentId"]).status_code == 409


def test_double_refund_fault_accepts_over_refunds_and_second_refunds(
    faulty_gustaffo: Callable[..., Gustaffo],
) -> None:
    gustaffo: Gustaffo = faulty_gustaffo("double-refund")
    payment_id = paid_payment(gustaffo, 100)
    assert gustaffo.refund(payment_id, 150).status_code == 201
    assert gustaffo.refund(payment_id).status_code == 201
    assert gustaffo.status(payment_id).json()["refundedAmount"] > 100


# ------------------------------------------------------------------------------------------ the spec


def conforms(body: Any, schema_name: str) -> None:
    """`body` validates against `components/schemas/<schema_name>` of the gustaffo spec."""
    spec = yaml.safe_load((SPEC_DIR / "openapi.yaml").read_text(encoding="utf-8"))
    schema = {"components": spec["components"], "$ref": f"#/components/schemas/{schema_name}"}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_the_spec_rejects_a_drifted_answer(faulty_gustaffo: Callable[..., Gustaffo]) -> None:
    # The conformance check above must be able to fail: schema-drift's answer does not match the spec.
    gustaffo: Gustaffo = faulty_gustaffo("schema-drift")
    with pytest.raises(jsonschema.ValidationError):
        conforms(gustaffo.created(), "CreatePaymentResponse")


def test_payments_and_tokens_survive_a_restart(start_sandbox: StartSandbox) -> None:
    first = start_sandbox()
    gustaffo = Gustaffo(first.base_url)
    payment = gustaffo.created()
    returned(gustaffo.pay(payment, VISA))
    first.stop()
    again = Gustaffo(start_sandbox(data_dir=first.config.data_dir).base_url)
    again._token = gustaffo._token  # the token issued before the restart is still valid
    status = again.status(payment["paymentId"])
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "COMPLETED"
    gustaffo.http.close()
    again.http.close()
