"""The gateway's webhooks: signed, well-formed, retried until answered, not resent, and timely."""

from __future__ import annotations

import json

import jsonschema
import pytest

from paycert.core import NotApplicable, PaymentState
from paycert.plugin.checkout import Checkout
from paycert.plugin.clock import GatewayTime
from paycert.plugin.inbox import WebhookEvent
from paycert.webhooks.signatures import WEAKNESSES
from paycert.webhooks.sink import Delivery, WebhookSink

COMPLETED = PaymentState.COMPLETED
# How long (gateway time) we watch for a delivery that should not come. On a sandbox its clock is moved on
# and its outbox says when all that fell due was sent (GatewayTime.quiet): no real second is spent.
QUIET_SECONDS = 1.0
RETRY_DUE_SECONDS = 5.0  # once the gateway's clock reaches the schedule, the retry leaves within this
LATENCY_LIMIT_SECONDS = 10.0


def same_event(a: WebhookEvent, b: WebhookEvent) -> bool:
    return (a.event_type, a.payment_id) == (b.event_type, b.payment_id)


@pytest.mark.criterion("WH-SIGNATURE")
def test_every_webhook_carries_a_valid_signature(checkout: Checkout) -> None:
    signature = checkout.profile.webhooks["signature"]
    if signature["scheme"] == "none":
        raise NotApplicable(signature.get("reason") or f"{checkout.client.id} does not sign its webhooks")
    if signature["scheme"] in WEAKNESSES:
        checkout.client.recorder.note(WEAKNESSES[signature["scheme"]], "finding: signature scheme")
    paid = checkout.pay("COMPLETED")

    inbox = checkout.webhooks(paid.payment)
    assert inbox.wait_for_state(COMPLETED, timeout=30) is not None, "no completion webhook arrived to check"
    for event in inbox.events():
        verdict = inbox.verify(event)
        assert verdict.ok, f"{event.event_type} webhook: {verdict.reason}"


@pytest.mark.criterion("WH-SCHEMA")
def test_every_webhook_body_matches_the_gateways_schema(checkout: Checkout) -> None:
    schema = checkout.profile.json_schema("webhook")
    if schema is None:
        raise NotApplicable(f"{checkout.client.id}'s profile names no webhook schema")
    paid = checkout.pay("COMPLETED")

    inbox = checkout.webhooks(paid.payment)
    assert inbox.wait_for_state(COMPLETED, timeout=30) is not None, "no completion webhook arrived to check"
    validator = jsonschema.Draft202012Validator(schema)
    for event in inbox.events():
        assert event.body is not None, f"a webhook body is not JSON: {event.delivery.body[:80]!r}"
        problems = sorted(validator.iter_errors(event.body), key=lambda e: list(map(str, e.absolute_path)))
        where = "/" + "/".join(map(str, problems[0].absolute_path)) if problems else ""
        assert not problems, (
            f"{event.event_type} webhook does not match the schema at {where}: {problems[0].message}"
        )


@pytest.mark.criterion("WH-RETRY")
@pytest.mark.parametrize("refusal", ["answered 500", "not answered"])
def test_a_refused_webhook_is_delivered_again_with_backoff_until_answered(
    checkout: Checkout, sink: WebhookSink, gateway_time: GatewayTime, refusal: str
) -> None:
    retries = checkout.profile.webhooks.get("retries") or {}
    schedule = retries.get("schedule_seconds") or [10.0]
    reference = checkout.new_reference()
    mode = "status" if refusal == "answered 500" else "drop"
    sink.fail_next(1, mode=mode, status=500, match=lambda d: _mentions(d, reference))

    paid = checkout.pay("COMPLETED", reference=reference)

    inbox = checkout.webhooks(paid.payment)
    refused = inbox.wait(lambda e: e.delivery.answer != "200", timeout=30)
    assert refused, "the gateway sent no webhook for the payment at all"
    first = refused[0]
    if gateway_time.controllable:
        # Backoff: nothing comes back at once; the retry comes when the sandbox clock reaches the schedule.
        # Without moving the clock, the outbox settles: all it would send at once has been sent by then.
        gateway_time.settle(checkout.client.id)
        early = inbox.events(lambda e: same_event(e, first))
        assert len(early) < 2, f"the {first.event_type} webhook was retried at once, without backoff"
        gateway_time.pass_time(schedule[0])
        again = inbox.wait(
            lambda e: same_event(e, first) and e.delivery.answer == "200", timeout=RETRY_DUE_SECONDS
        )
    else:
        again = inbox.wait(
            lambda e: same_event(e, first) and e.delivery.answer == "200", timeout=schedule[0] + 20
        )
    assert again, f"the {first.event_type} webhook {refusal} was never delivered again"
    retry = again[0]
    if not gateway_time.controllable:
        gap = retry.received_at - first.received_at
        assert gap >= 0.5 * schedule[0], f"retried after {gap:.2f} s, without the backoff its profile states"
    pending = retries.get("pending_counter")
    if pending:
        before, after = first.field(pending), retry.field(pending)
        countdown = (before - after) if isinstance(before, int) and isinstance(after, int) else None
        assert countdown == 1, f"{pending} should count down by one per attempt, went {before} -> {after}"
    gateway_time.pass_time(max(schedule))
    gateway_time.quiet(QUIET_SECONDS, checkout.client.id)
    copies = inbox.events(lambda e: same_event(e, first))
    assert len(copies) == 2, (
        f"after a 2xx the {first.event_type} webhook kept coming ({len(copies)} deliveries)"
    )


@pytest.mark.criterion("WH-RETRY")
def test_a_webhook_never_answered_is_retried_on_its_whole_schedule_then_given_up(
    checkout: Checkout, sink: WebhookSink, gateway_time: GatewayTime
) -> None:
    retries = checkout.profile.webhooks.get("retries") or {}
    if not retries.get("max_attempts") or not retries.get("schedule_seconds"):
        raise NotApplicable(
            f"{checkout.client.id}'s profile states no retry schedule and attempt limit to check"
        )
    schedule = [float(s) for s in retries["schedule_seconds"]]
    attempts = int(retries["max_attempts"])
    tolerance = float(retries.get("tolerance", 0.5))
    reference = checkout.new_reference()
    # Every attempt refused, and more: the gateway must stop by itself after its last one.
    sink.fail_next(attempts + 3, mode="status", status=500, match=lambda d: _mentions(d, reference))

    paid = checkout.pay("COMPLETED", reference=reference)

    inbox = checkout.webhooks(paid.payment)
    first = inbox.wait(lambda e: e.delivery.answer != "200", timeout=30)
    assert first, "the gateway sent no webhook for the payment at all"
    event = first[0]
    tries = [event]
    for number, interval in enumerate(schedule[: attempts - 1], start=2):
        if gateway_time.controllable:
            gateway_time.settle(checkout.client.id)  # what it would send before the clock moves is sent
            early = inbox.events(lambda e: same_event(e, event))
            assert len(early) < number, f"attempt {number} came before the {interval:g} s its schedule states"
            gateway_time.pass_time(interval)
            # Waited for as an event: a correct gateway's attempt returns at once; a loaded machine gets time.
            came = inbox.wait(lambda e: same_event(e, event), count=number, timeout=3 * RETRY_DUE_SECONDS)
        else:
            came = inbox.wait(
                lambda e: same_event(e, event), count=number, timeout=interval * (1 + tolerance) + 5
            )
        assert len(came) >= number, f"attempt {number} of {attempts} never came ({len(came)} deliveries)"
        tries = came
        if not gateway_time.controllable:
            gap = tries[number - 1].received_at - tries[number - 2].received_at
            assert gap >= interval * (1 - tolerance), (
                f"attempt {number} came {gap:.2f} s after the one before, the schedule states {interval:g} s"
            )
    gateway_time.pass_time(max(schedule) * 2)
    # A real gateway may send an attempt past its schedule: it is watched for its longest interval and more.
    watch = QUIET_SECONDS if gateway_time.controllable else max(schedule) * (1 + tolerance)
    gateway_time.quiet(watch, checkout.client.id)
    total = len(inbox.events(lambda e: same_event(e, event)))
    assert total == attempts, f"the gateway made {total} attempts; its profile states {attempts}"


@pytest.mark.criterion("WH-DUPLICATES")
def test_a_delivered_webhook_is_not_sent_again(checkout: Checkout, gateway_time: GatewayTime) -> None:
    paid = checkout.pay("COMPLETED")

    inbox = checkout.webhooks(paid.payment)
    assert inbox.wait_for_state(COMPLETED, timeout=30) is not None, "no completion webhook arrived"
    gateway_time.quiet(QUIET_SECONDS, checkout.client.id)
    seen: dict[str, int] = {}
    for event in inbox.events():
        key = f"{event.event_type}"
        seen[key] = seen.get(key, 0) + 1
    resent = {k: n for k, n in seen.items() if n > 1}
    assert not resent, f"webhooks answered 200 were sent again: {resent}"


@pytest.mark.criterion("WH-LATENCY")
def test_webhooks_leave_within_ten_seconds_of_the_event(checkout: Checkout) -> None:
    paid = checkout.pay("COMPLETED")

    webhook = checkout.webhooks(paid.payment).wait_for_state(COMPLETED, timeout=LATENCY_LIMIT_SECONDS + 20)
    assert webhook is not None, "no completion webhook arrived at all"
    delay = webhook.received_at - paid.finished_at
    assert delay <= LATENCY_LIMIT_SECONDS, f"the completion webhook came {delay:.1f} s after the payment"


def _mentions(delivery: Delivery, reference: str) -> bool:
    try:
        return reference in json.dumps(json.loads(delivery.body))
    except ValueError:
        return reference.encode() in delivery.body
