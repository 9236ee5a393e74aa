"""The paylican sandbox against its seed and spec: token, create, the auth redirect and pay page, outcomes,
status read and expiry. Webhook delivery is in test_paylican_webhooks.py, faults in test_paylican_faults.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from paycert.sandbox import SandboxConfig, SandboxServer
from paycert.sandbox.gateways.paylican import CREDENTIALS
from paycert.webhooks.sink import WebhookSink
from tests.sandbox.test_paylican_support import (
    AUTH_PATH,
    DECLINED,
    RETURN_URL,
    Paylican,
    profile,
    read_forms,
    spec_schema,
    webhook_schema,
)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Paylican]:
    """One sandbox for the tests that neither move its clock nor configure its webhook receiver."""
    with SandboxServer(SandboxConfig(tmp_path_factory.mktemp("paylican"))) as server:
        client = Paylican(server.base_url)
        yield client
        client.close()


@pytest.fixture
def own_gw(sandbox: SandboxServer) -> Iterator[Paylican]:
    """A sandbox of the test's own, for tests that move the clock or receive webhooks."""
    client = Paylican(sandbox.base_url)
    yield client
    client.close()


# -- auth --------------------------------------------------------------------------------------------------


def test_token_is_keycloak_shaped(gw: Paylican) -> None:
    response = gw.token_response()
    assert response.status_code == 200
    body = response.json()
    spec_schema("TokenResponse")(body)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert body["refresh_expires_in"] > 0


@pytest.mark.parametrize("field", ["username", "password"])
def test_wrong_user_or_password_is_invalid_grant(gw: Paylican, field: str) -> None:
    response = gw.token_response(**{field: "wrong"})
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_grant", "error_description": "Invalid user credentials"}
    assert profile()["auth"]["invalid_credentials"]["message"] in response.text


def test_wrong_client_is_invalid_client(gw: Paylican) -> None:
    response = gw.token_response(client_id="another-client", password="wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"  # Keycloak checks the client first
    assert profile()["auth"]["invalid_credentials"]["message"] in response.json()["error_description"]


def test_other_grant_type_is_unsupported(gw: Paylican) -> None:
    response = gw.token_response(grant_type="client_credentials")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert gw.token_response(grant_type="").json()["error"] == "invalid_request"


def test_api_needs_a_bearer_token(gw: Paylican) -> None:
    response = gw.create_response(auth=False)
    assert response.status_code == 401
    spec_schema("ApiError")(response.json())
    assert response.headers["www-authenticate"].startswith("Bearer")
    forged = gw.http.post(
        f"{gw.base}/api/v1/payment", json=gw.payment_body(), headers={"Authorization": "Bearer forged"}
    )
    assert forged.status_code == 401
    payment = gw.create()
    assert gw.status_response(payment["invoiceId"], auth=False).status_code == 401


def test_token_expires_on_the_test_clock(own_gw: Paylican) -> None:
    expires_in = own_gw.token_response().json()["expires_in"]
    payment = own_gw.create()
    own_gw.advance(expires_in + 1)
    assert own_gw.status_response(payment["invoiceId"]).status_code == 401


# -- create ------------------------------------------------------------------------------------------------


def test_create_answers_like_the_seed(gw: Paylican) -> None:
    body = gw.payment_body()
    response = gw.create_response(body)
    assert response.status_code == 200
    created = response.json()
    spec_schema("PaymentCreated")(created)
    assert created["merchantReference"] == body["merchantReference"]
    assert created["invoiceId"].startswith("XYZ20")  # type + year + "-" + hex, like XYZ2024-ade08
    status = gw.status(created["invoiceId"])
    spec_schema("Payment")(status)
    assert status["status"] == "UNPAID"
    assert status["totalAmount"] == 5100.0


@pytest.mark.parametrize(("length", "expected"), [(900, 200), (901, 400)])
def test_redirection_url_at_most_900_characters(gw: Paylican, length: int, expected: int) -> None:
    url = "https://merchant.example/return?pad="
    url += "x" * (length - len(url))
    assert len(url) == length
    response = gw.create_response(gw.payment_body(redirectionUrl=url))
    assert response.status_code == expected, response.text
    if expected == 400:
        spec_schema("ApiError")(response.json())
        assert "900" in response.json()["message"]


@pytest.mark.parametrize("invalid", profile()["amounts"]["invalid"])
def test_bad_amounts_are_refused(gw: Paylican, invalid: dict[str, object]) -> None:
    response = gw.create_response(gw.payment_body(amount=invalid["amount"]))
    assert response.status_code == invalid["status"]
    assert str(invalid["message"]) in response.json()["message"]


def test_missing_fields_are_all_listed(gw: Paylican) -> None:
    response = gw.create_response({"amount": 10})
    assert response.status_code == 400
    errors = response.json()["errors"]
    for field in ("type", "customerCode", "merchantReference", "redirectionUrl"):
        assert f"{field} is required" in errors


def test_create_is_idempotent(gw: Paylican) -> None:
    body = gw.payment_body()
    first = gw.create_response(body, key="key-1")
    again = gw.create_response(body, key="key-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    other = gw.create_response(gw.payment_body(), key="key-1")
    assert other.status_code == 422
    assert gw.create_response(body, key="key-2").json()["invoiceId"] != first.json()["invoiceId"]


# -- the shopper -------------------------------------------------------------------------------------------


def test_auth_redirect_leads_to_the_pay_page(gw: Paylican) -> None:
    payment = gw.create()
    response = gw.enter(payment)
    assert response.status_code == 302
    assert response.headers["location"] == gw.pay_page_url(payment)


def test_auth_redirect_refuses_wrong_client_and_foreign_pages(gw: Paylican) -> None:
    payment = gw.create()
    url = gw.base + AUTH_PATH
    wrong_client = gw.http.get(url, params={"client_id": "x", "redirect_uri": gw.pay_page_url(payment)})
    assert wrong_client.status_code == 400
    assert "Client not found" in wrong_client.text
    foreign = gw.http.get(
        url,
        params={"client_id": CREDENTIALS["client_id"], "redirect_uri": "https://evil.example/api/v1/pay/"},
    )
    assert foreign.status_code == 400


def test_entry_template_of_the_profile_reaches_a_form_the_profile_can_fill(gw: Paylican) -> None:
    shopper = profile()["shopper"]
    payment = gw.create(type="PCT")
    entry = (
        shopper["entry"]
        .replace("{base_url}", gw.base)
        .replace("{client_id}", CREDENTIALS["client_id"])
        .replace("{reference}", payment["merchantReference"])
        .replace("{payment_id}", payment["invoiceId"])
    )
    page = gw.http.get(entry, follow_redirects=True)
    assert page.status_code == 200
    form = read_forms(page.text)[shopper["form"].removeprefix("#")]
    assert form["method"] == "post"
    assert set(shopper["fields"]) <= set(form["inputs"])
    assert ("action", "pay", "submit") in form["buttons"]
    assert ("action", "cancel", "submit") in form["buttons"]
    assert "challenge" not in profile()  # no 3-D Secure


def test_success_flow_end_to_end(own_gw: Paylican) -> None:
    with WebhookSink() as sink:
        own_gw.configure_webhook(sink.url + "/hooks/paylican")
        payment = own_gw.create()
        page_url = own_gw.enter(payment).headers["location"]
        page = own_gw.http.get(page_url)
        form = read_forms(page.text)["paylican-pay-form"]
        assert urlsplit(page_url).path == form["action"]
        done = own_gw.http.post(
            own_gw.root + form["action"],
            data={
                "cardNumber": "4111111111111111",
                "expiryMonth": "12",
                "expiryYear": "2034",
                "cvv": "123",
                "action": "pay",
            },
        )
        assert done.status_code == 303
        assert done.headers["location"] == RETURN_URL  # nothing appended (profile return_url)
        status = own_gw.status(payment["invoiceId"])
        assert status["status"] == "PAID"
        assert status["paymentMode"] == "DIRECT_PAYMENT"
        assert status["paymentDate"]
        deliveries = sink.wait_for(2)
        bodies = {d.json()["type"]: d.json() for d in deliveries}
        assert set(bodies) == {"invoice.payment_initiated", "invoice.payment_executed"}
        validate = webhook_schema()
        for delivery in deliveries:
            validate(delivery.json())
            assert delivery.path == "/hooks/paylican"
            assert delivery.json()["pendingWebhooks"] == 2
        executed = bodies["invoice.payment_executed"]["data"]
        assert executed["id"] == payment["invoiceId"]
        assert executed["documentNo"] == payment["merchantReference"]
        assert executed["status"] == "PAID"
        assert executed["totalAmount"] == 5100.0
        assert executed["additionalFields"] == payment["additionalFields"]
        assert bodies["invoice.payment_initiated"]["data"]["status"] == "UNPAID"
        assert executed["paymentNo"] == status["paymentNo"]
        own_gw.wait_for_invocation(payment["invoiceId"], lambda i: i["state"] == "DELIVERED")
    # A paid invoice cannot be paid twice.
    assert own_gw.http.get(own_gw.pay_page_url(payment)).status_code == 409
    assert own_gw.submit(payment).status_code == 409


def test_declined_card_fails_with_payment_error(own_gw: Paylican) -> None:
    with WebhookSink() as sink:
        own_gw.configure_webhook(sink.url)
        payment = own_gw.create()
        own_gw.pays(payment, card=DECLINED)
        status = own_gw.status(payment["invoiceId"])
        assert status["status"] == "FAILED"
        assert status["paymentError"] == "DECLINED"
        types = {d.json()["type"]: d.json() for d in sink.wait_for(2)}
        assert set(types) == {"invoice.payment_initiated", "invoice.payment_error"}
        error = types["invoice.payment_error"]
        webhook_schema()(error)
        assert error["data"]["status"] == "FAILED"
        assert "bankCode" not in error["data"]  # the seed's error body has no bank details


def test_expired_card_is_declined(gw: Paylican) -> None:
    payment = gw.create()
    assert gw.submit(payment, month="01", year="2023").status_code == 303
    assert gw.status(payment["invoiceId"])["paymentError"] == "EXPIRED_CARD"


def test_cancel_rejects_the_invoice(own_gw: Paylican) -> None:
    with WebhookSink() as sink:
        own_gw.configure_webhook(sink.url)
        payment = own_gw.create()
        assert own_gw.cancels(payment).headers["location"] == RETURN_URL
        assert own_gw.status(payment["invoiceId"])["status"] == "REJECTED"
        (delivery,) = sink.wait_for(1)
        assert delivery.json()["type"] == "invoice.payment_rejected"
        assert delivery.json()["data"]["status"] == "REJECTED"


def test_bad_card_entry_shows_the_form_again_and_changes_nothing(gw: Paylican) -> None:
    payment = gw.create()
    response = gw.submit(payment, card="4111111111111112")  # fails the Luhn check
    assert response.status_code == 400
    assert "not valid" in response.text
    assert "paylican-pay-form" in response.text
    assert gw.status(payment["invoiceId"])["status"] == "UNPAID"


def test_pay_page_of_an_unknown_invoice_is_404(gw: Paylican) -> None:
    payment = gw.create()
    assert gw.http.get(gw.pay_page_url({**payment, "merchantReference": "OTHER"})).status_code == 404
    assert gw.http.get(gw.pay_page_url({**payment, "invoiceId": "XYZ2024-00000"})).status_code == 404
    assert gw.status_response("XYZ2024-00000").status_code == 404


def test_statuses_of_the_profile_are_the_ones_the_spec_lists() -> None:
    spec_statuses = set(profile()["statuses"])
    validate = spec_schema("InvoiceStatus")
    for status in spec_statuses:
        validate(status)
    assert spec_statuses == {"UNPAID", "PAID", "FAILED", "REJECTED", "EXPIRED"}


# -- expiry ------------------------------------------------------------------------------------------------


def test_unpaid_invoice_expires_after_30_minutes(own_gw: Paylican) -> None:
    payment = own_gw.create()
    own_gw.advance(29 * 60)
    assert own_gw.status(payment["invoiceId"])["status"] == "UNPAID"
    own_gw.advance(2 * 60)
    assert own_gw.status(payment["invoiceId"])["status"] == "EXPIRED"
    assert own_gw.http.get(own_gw.pay_page_url(payment)).status_code == 410
    assert own_gw.submit(payment).status_code == 410
    assert own_gw.status(payment["invoiceId"])["status"] == "EXPIRED"


def test_paid_invoice_does_not_expire(own_gw: Paylican) -> None:
    payment = own_gw.create()
    own_gw.pays(payment)
    own_gw.advance(31 * 60)
    assert own_gw.status(payment["invoiceId"])["status"] == "PAID"


def test_two_submissions_at_once_pay_once(own_gw: Paylican) -> None:
    with WebhookSink() as sink:
        own_gw.configure_webhook(sink.url)
        payment = own_gw.create()
        with ThreadPoolExecutor(max_workers=2) as pool:
            codes = sorted(pool.map(lambda _: own_gw.submit(payment).status_code, range(2)))
        assert codes == [303, 409]
        sink.wait_for(2)
        time.sleep(0.3)  # a second payment would have sent two more events by now
        assert [d.json()["type"] for d in sink.deliveries].count("invoice.payment_executed") == 1
