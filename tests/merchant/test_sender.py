"""The sender that plays a gateway: what it puts on the wire verifies exactly when it should."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paycert.webhooks.sender import (
    MODES,
    EventShape,
    WebhookSender,
    format_amount,
    get_pointer,
    set_pointer,
    unsigned_changes,
)
from paycert.webhooks.signatures import get_scheme
from paycert.webhooks.sink import WebhookSink
from tests.merchant.support import shape

SECRET = "a-merchant-webhook-secret"
SIGNED = {"gustaffo": "sha256-secret-body", "txservices": "md5-callback-checksum"}
POINTERS = {"gustaffo": "/data/amount", "txservices": "/amount"}


def render(gateway: str, mode: str, amount: Decimal = Decimal("10.00")) -> tuple[bytes, dict[str, str]]:
    body = shape(gateway).body(payment_id="123456", state="COMPLETED", amount=amount, currency="EUR")
    sender = WebhookSender("http://127.0.0.1:9/x", SIGNED[gateway], SECRET, tamper_pointer=POINTERS[gateway])
    return sender.render(body, mode)  # type: ignore[arg-type]


@pytest.mark.parametrize("gateway", sorted(SIGNED))
@settings(max_examples=25, deadline=None)
@given(
    mode=st.sampled_from(MODES),
    cents=st.integers(min_value=1, max_value=10**8),
)
def test_only_a_signed_body_verifies(gateway: str, mode: str, cents: int) -> None:
    body, headers = render(gateway, mode, Decimal(cents) / 100)
    verdict = get_scheme(SIGNED[gateway]).verify(SECRET, body, headers)
    assert verdict.ok is (mode == "signed"), (mode, verdict.reason)


@pytest.mark.parametrize("gateway", ["gustaffo", "txservices", "paylican"])
def test_the_body_names_the_payment_its_state_and_amount_where_the_profile_points(gateway: str) -> None:
    event_shape: EventShape = shape(gateway)
    body = event_shape.body(payment_id="4242", state="FAILED", amount=Decimal("12.50"), currency="EUR")
    hooks = event_shape.webhooks
    assert str(get_pointer(body, hooks["payment_id"])) == "4242"
    assert event_shape.statuses.get(get_pointer(body, hooks["status"])) == "FAILED"
    assert Decimal(str(get_pointer(body, hooks["amount"]))) == Decimal("12.50")
    assert "checksum" not in body


def test_amounts_are_written_the_gateways_way() -> None:
    assert format_amount(Decimal("10.5"), {"format": "decimal-string", "decimals": 2}) == "10.50"
    assert format_amount(Decimal("10.5"), {"format": "minor-units", "decimals": 2}) == 1050
    assert format_amount(Decimal("10.5"), {"format": "number"}) == 10.5


def test_pointers_create_the_objects_on_their_way() -> None:
    document: dict[str, object] = {}
    set_pointer(document, "/data/a~1b", 1)
    assert document == {"data": {"a/b": 1}}
    assert get_pointer(document, "/data/a~1b") == 1


def test_concurrent_copies_all_arrive_identical() -> None:
    with WebhookSink() as sink:
        sender = WebhookSender(f"{sink.url}/merchant", "sha256-secret-body", SECRET)
        sent = sender.send_concurrently({"id": "evt_1"}, 6)
        arrived = sink.wait_for(count=6, timeout=10)
    assert all(s.ok for s in sent)
    assert len({(d.body, d.headers.get("x-signature")) for d in arrived}) == 1
    assert json.loads(arrived[0].body) == {"id": "evt_1"}


@pytest.mark.parametrize("scheme", ["stripe", "standard-webhooks"])
def test_a_replay_is_validly_signed_but_outside_the_tolerance(scheme: str) -> None:
    secret = "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZg=="
    sender = WebhookSender("http://127.0.0.1:9/x", scheme, secret, now=lambda: 1_700_000_000)
    body, headers = sender.render({"id": "evt_1"}, "replayed")
    assert (
        get_scheme(scheme).verify(secret, body, headers, now=1_700_000_000).reason
        == "timestamp outside tolerance"
    )
    assert get_scheme(scheme).timestamped


def test_a_late_txservices_failure_says_failed_in_its_signed_status_too() -> None:
    body = shape("txservices").body(payment_id="1", state="FAILED", amount=Decimal("1.00"), currency="EUR")
    assert (body["status"], body["transactionStatus"]) == ("authfailed", "N")


def test_the_fields_a_checksum_does_not_cover_are_what_can_change_under_it() -> None:
    event_shape = shape("txservices")
    failed = event_shape.body(payment_id="1", state="FAILED", amount=Decimal("1.00"), currency="EUR")
    paid = event_shape.body(payment_id="1", state="COMPLETED", amount=Decimal("1.00"), currency="EUR")
    changes = unsigned_changes(get_scheme("md5-callback-checksum"), paid, failed)
    assert changes["status"] == "capturesuccess"
    assert "transactionStatus" not in changes
    assert unsigned_changes(get_scheme("sha256-secret-body"), paid, failed) == {}


def test_a_query_is_added_to_the_receivers_url() -> None:
    sender = WebhookSender("http://127.0.0.1:9/hook?x=1", "none", None)
    assert sender.url_with({"status": "COMPLETED"}) == "http://127.0.0.1:9/hook?x=1&status=COMPLETED"
