"""What the gateway sends that is not an operation: webhook bodies and return-URL queries, against their
JSON Schemas (specs/<gateway>/schemas/)."""

from __future__ import annotations

import jsonschema
import pytest

from paycert.core import NotApplicable, PaycertError, PaymentState
from paycert.plugin.checkout import Checkout, CheckoutResult
from paycert.plugin.inbox import WebhookInbox
from paycert.plugin.outcomes import NOT_EVALUATED_PREFIX


def problems_of(schema: dict[str, object], document: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


@pytest.mark.criterion("CON-CALLBACKS")
def test_every_webhook_and_return_url_query_matches_its_json_schema(
    checkout: Checkout, webhooks: WebhookInbox
) -> None:
    webhook_schema = checkout.profile.json_schema("webhook")
    return_schema = checkout.profile.json_schema("return_query")
    if webhook_schema is None and return_schema is None:
        raise NotApplicable(f"{checkout.client.id}'s profile names no webhook or return-URL schema")
    try:
        outcomes: list[CheckoutResult] = [checkout.pay("COMPLETED"), checkout.pay("FAILED")]
    except PaycertError as exc:  # the payment flow itself is broken: other criteria say why
        pytest.skip(f"{NOT_EVALUATED_PREFIX}no payment could be made to produce callbacks ({exc})")
    completed = checkout.webhooks(outcomes[0].payment).wait_for_state(PaymentState.COMPLETED, timeout=30)
    assert webhook_schema is None or completed is not None, "no completion webhook arrived to check"

    found: list[str] = []
    if return_schema is not None:
        for outcome in outcomes:
            if outcome.shopper is not None and outcome.shopper.landed:
                found += [f"return URL {p}" for p in problems_of(return_schema, outcome.shopper.return_query)]
    if webhook_schema is not None:
        for event in webhooks.events():  # everything this gateway sent during the run, not only now
            if event.body is None:
                found.append(f"{event.event_type} webhook body is not JSON")
                continue
            found += [f"{event.event_type} webhook {p}" for p in problems_of(webhook_schema, event.body)]
    assert not found, f"{len(found)} callback(s) do not match their schema, first: {found[0]}"
