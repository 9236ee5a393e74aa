"""What the reference merchant needs from each gateway, as pacts — then the gateway verified against them.

Consumer side: the merchant's needs (a token, a payment created, a completed payment read back, a refund
where offered) become a V4 pact "merchant" <-> gateway, with shapes rather than values; paycert's generic
client plays the merchant against pact's mock server, so every interaction is really exercised, and the pact
file is written into the run folder (`pacts/`). The webhook the merchant consumes (the one announcing a
completed payment) is a message pact in `pacts/webhooks/`, checked against the merchant's reading of it.
Provider side: pact's own verifier replays the HTTP pact against the target gateway (provider states through
the gateway's state endpoint where it has one), and checks the message pact against the webhook the gateway
really sent for a payment paid in this test. Each interaction gives one CON-PACT result, with the verifier's
mismatch text as the evidence of a failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pact import Pact

from paycert.core.errors import PaycertError
from paycert.core.states import PaymentState
from paycert.gateways.client import ApiResult, GatewayClient
from paycert.pacts.consumer import (
    CONSUMER,
    EXAMPLE_PAYMENT_ID,
    WEBHOOK_NEED,
    example_card,
    example_client,
    merchant_pact,
    webhook_pact,
)
from paycert.pacts.needs import AMOUNT as PACT_AMOUNT
from paycert.pacts.needs import COMPLETED_STATE
from paycert.pacts.verify import CRITERION, PactVerification, verify_pact
from paycert.plugin.checkout import Checkout
from paycert.plugin.outcomes import NOT_EVALUATED_PREFIX
from paycert.plugin.session import RunState
from paycert.plugin.subresults import CriteriaResults
from paycert.targets.profile import Profile
from paycert.webhooks.fields import read_field


@pytest.mark.criterion("CON-PACT")
def test_merchant_needs_are_a_pact_the_gateway_honours(
    paycert_run: RunState, gateway_id: str, criteria_results: CriteriaResults, request: pytest.FixtureRequest
) -> None:
    if gateway_id in paycert_run.unreachable:
        pytest.skip(f"{NOT_EVALUATED_PREFIX}{paycert_run.unreachable[gateway_id]}")
    target = paycert_run.target.gateways[gateway_id]
    profile = target.require_profile()

    pact = merchant_pact(profile)
    merchant_plays_every_need(pact, profile)
    pact_file = write_pact(pact, paycert_run.run_dir / "pacts", profile.id)

    if target.is_live and not paycert_run.allow_live_writes:
        pytest.skip(
            f"{NOT_EVALUATED_PREFIX}{gateway_id} is live and the pact creates and refunds payments; "
            "run with --allow-live-writes"
        )
    if target.is_live and paycert_run.client(gateway_id).guard.cap(Decimal(PACT_AMOUNT)) < Decimal(
        PACT_AMOUNT
    ):
        # The verifier replays the pact's own example amounts, past paycert's seam: it is not capped.
        pytest.skip(
            f"{NOT_EVALUATED_PREFIX}{gateway_id} is live and the pact's amounts ({PACT_AMOUNT}) are above "
            "the live cap; the verifier would send them as written"
        )
    bring_about = (
        None if target.control_url else completed_payments(request.getfixturevalue("checkout"), pact_file)
    )
    with paycert_run.waiting(f"pact's verifier replaying {pact_file.name} against {gateway_id}"):
        verification = verify_pact(pact_file, target, paycert_run.redactor, bring_about=bring_about)
    record_verification(criteria_results, verification, pact_file)


def completed_payments(checkout: Checkout, pact_file: Path) -> Callable[[str], dict[str, object]]:
    """For a gateway with no provider-state endpoint: "a completed payment exists" made true by paying.

    One payment per interaction that needs one, paid here by the shopper before the verifier starts (the
    browser shopper cannot be driven from the verifier's state-change thread); each state change takes one.
    """
    needing = sum(
        COMPLETED_STATE in {str(s.get("name")) for s in i.get("providerStates", [])}
        for i in json.loads(pact_file.read_text(encoding="utf-8"))["interactions"]
    )
    paid = [checkout.pay("COMPLETED").payment.id for _ in range(needing)]

    def bring_about(state: str) -> dict[str, object]:
        if state != COMPLETED_STATE or not paid:
            raise PaycertError(f"nothing can bring about {state!r} on {checkout.client.id}")
        return {"payment_id": paid.pop(0)}

    return bring_about


@pytest.fixture
def fresh_checkout(paycert_run: RunState, checkout: Checkout) -> Iterator[Checkout]:
    """The run's checkout with a client of its own, so with a token of its own: suites before this one move
    the sandbox's clock (expiry scenarios) past the shared client's token, which it does not know."""
    client = GatewayClient(checkout.client.target, paycert_run.recorder)
    client.context_extra.update(checkout.client.context_extra)  # where its webhooks go, its registration
    try:
        yield Checkout(
            client,
            checkout.shopper,
            checkout.sink,
            checkout.webhook_url,
            link_browser=paycert_run.link_browser,
            run_dir=paycert_run.run_dir,
        )
    finally:
        client.close()


@pytest.mark.criterion("CON-PACT")
def test_the_completion_webhook_is_the_message_the_merchant_consumes(
    paycert_run: RunState, fresh_checkout: Checkout, criteria_results: CriteriaResults
) -> None:
    checkout = fresh_checkout
    profile = checkout.profile
    pact = webhook_pact(profile)
    pact.verify(merchant_reads_the_webhook(profile), "Async")  # the consumer side, on pact's example message
    pact_file = write_pact(pact, paycert_run.run_dir / "pacts" / "webhooks", profile.id)

    try:
        paid = checkout.pay("COMPLETED")
    except PaycertError as exc:
        # The HTTP pact says what broke (e.g. a drifted create answer); the webhook cannot be had without it.
        pytest.skip(f"{NOT_EVALUATED_PREFIX}{WEBHOOK_NEED}: no paid payment to take it from: {exc}")
    event = checkout.webhooks(paid.payment).wait_for_state(PaymentState.COMPLETED, timeout=30)
    assert event is not None, f"{WEBHOOK_NEED}: {profile.id} sent none within 30 s of {paid.payment}"
    verification = verify_pact(
        pact_file, checkout.client.target, paycert_run.redactor, messages={WEBHOOK_NEED: event.delivery.body}
    )
    record_verification(criteria_results, verification, pact_file)


def merchant_reads_the_webhook(profile: Profile) -> Callable[[str | bytes | None, dict[str, object]], None]:
    """The merchant's webhook handler, as far as the pact goes: the payment it names is now COMPLETED."""
    hooks = profile.webhooks

    def handle(body: str | bytes | None, _metadata: dict[str, object]) -> None:
        assert body is not None, "the webhook has no body"
        document = json.loads(body)
        event = read_field(hooks, "event_type", document)
        kind = None if event is None else str(event)
        assert read_field(hooks, "payment_id", document, event_type=kind) is not None, (
            "the webhook names no payment"
        )
        status = read_field(hooks, "status", document, event_type=kind)
        states = {profile.event_state(str(event)) if event else None, profile.state_of(status)}
        assert PaymentState.COMPLETED in states, f"the merchant cannot tell {event or status} is a completion"

    return handle


def record_verification(
    criteria_results: CriteriaResults, verification: PactVerification, pact_file: Path
) -> None:
    for interaction in verification.interactions:
        criteria_results.record(
            CRITERION,
            interaction.outcome,
            interaction.detail or f"{interaction.description}: honoured (pact {pact_file.name})",
            [
                {"kind": "note", "label": "pact file", "text": str(pact_file)},
                {"kind": "note", "label": "pact verifier output", "text": verification.output[-6000:]},
            ],
            duration_s=verification.duration_s / max(len(verification.interactions), 1),
            checks=1,  # the verifier replayed this interaction against the gateway
        )
    assert verification.interactions, "the pact verifier reported no interaction"


def merchant_plays_every_need(pact: Pact, profile: Profile) -> None:
    """The consumer test: the merchant's client against pact's mock server, one call per interaction."""
    with pact.serve(addr="127.0.0.1", raises=True) as server:
        merchant = example_client(profile, str(server.url).rstrip("/"))
        try:
            assert merchant.token(), "the merchant cannot read a token from the token answer"
            payment = merchant.create_payment(
                Decimal("10.00"),
                card=example_card(profile),
                return_url="https://merchant.example/return",
                notification_url="http://127.0.0.1:9/merchant/notifications",
            )
            assert payment.id, "the merchant cannot read the payment id from the create answer"
            read = merchant.call("get_payment", {"payment_id": EXAMPLE_PAYMENT_ID})
            assert read.ok, f"the merchant's status read was answered HTTP {read.status}"
            assert read.get("status") is not None, "the merchant cannot read the payment's status"
            assert profile.state_of(read.get("status")) is not None
            if profile.offers("refund"):
                refunded = _refund(merchant, EXAMPLE_PAYMENT_ID)
                assert refunded.ok, f"the merchant's refund was answered HTTP {refunded.status}"
        finally:
            merchant.close()


def _refund(merchant: GatewayClient, payment_id: str) -> ApiResult:
    context = {"payment_id": payment_id, "parent_id": payment_id, "amount": merchant.format_amount("10.00")}
    return merchant.call("refund", context)


def write_pact(pact: Pact, directory: Path, provider: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    pact.write_file(directory, overwrite=True)
    written = directory / f"{CONSUMER}-{provider}.json"
    assert written.is_file(), f"pact wrote no {written.name}"
    return written
