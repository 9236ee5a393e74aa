"""The misbehaviours the sandbox can be started with (`paycert sandbox --fault NAME`).

Each fault breaks exactly one promise of a correct gateway, so that a certification run against it turns
exactly one criterion red. Integrators use them to rehearse their own resilience.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FAULTS: dict[str, str] = {
    "bad-signature": "webhooks are signed with the wrong secret",
    "no-retry": "a webhook delivery that failed (non-2xx or no answer) is never retried",
    "duplicate-webhook": "every webhook that was delivered is delivered a second time",
    "slow-webhook": "every webhook leaves 15 s (sandbox clock) after its event",
    "wrong-status": "the status API reports a declined payment (card refused) as completed",
    "accept-bad-amount": "zero and negative amounts are accepted",
    "skip-3ds": "cards that must be challenged complete without the 3-D Secure page",
    "double-refund": "refunds are not checked: more than captured, and twice",
    "no-auth": "API operations do not check the access token",
    "schema-drift": "a response field is renamed (the payment id of create and status)",
    "unsigned-webhook": "webhooks are sent without any signature",
    "capture-over-auth": "a capture larger than the authorized amount is accepted",
    "any-3ds-password": "the 3-D Secure challenge accepts any password",
    "wrong-return-status": "the return URL reports a completed payment as failed",
    "cancel-ignored": "the shopper's cancel button leaves the payment pending",
    "webhook-drift": "webhook bodies lose a field their schema requires (their timestamp)",
    "void-ignored": "a reversal answers success but the authorization stays open",
    "orphan-recurring": "a repeated payment is charged without a successful initial payment",
    "token-not-checked": "an unknown token is charged as if it were registered",
    "payout-declined": "every payout is declined",
    "partial-capture-ignored": "a capture takes the whole authorized amount, whatever amount was asked for",
    "refund-over-remainder": "a refund is checked against the captured amount, not what earlier refunds left",
    "refund-status-stale": "a refund read back on its own is stale: still pending, or for the whole payment",
    "3ds-manual-autocapture": "a preauthorization that passed 3-D Secure is captured at once instead of held",
    "merchant-no-verify": "the reference merchant accepts webhooks without checking their signature",
    "merchant-double-fulfil": "the reference merchant fulfils an order again on every paid notification",
    "merchant-trusts-return-url": "the reference merchant believes the status typed into its return URL",
    "merchant-no-poll": "the reference merchant never polls the gateway for payments pending too long",
    "merchant-regresses-state": "the reference merchant lets a late event overwrite a final order state",
    "merchant-ignores-amount": "the reference merchant fulfils without comparing amount and currency",
    "merchant-no-expiry": "the reference merchant never cancels an unpaid order",
    "merchant-slow-ack": "the reference merchant answers a webhook that fulfils an order only after 6 s",
    "merchant-no-confirm": "the reference merchant trusts an unsigned gateway's webhook without reading it back",
    "merchant-adopts-unknown-payment": "the reference merchant makes an order for a payment it never created",
    "merchant-expiry-no-readback": "the reference merchant expires a pending order without asking the gateway",
    "merchant-no-push": "the reference merchant's WebSocket never pushes a status change",
    "tls-legacy": "the sandbox's HTTPS also accepts TLS 1.0 and 1.1",
    "plain-http": "the sandbox's plain-HTTP listener answers API calls instead of redirecting them to HTTPS",
    "no-rate-limit": "a burst of calls is never answered 429",
    "no-cap": "amounts above a gateway's declared cap (amounts.max) are accepted",
    "no-allowlist": "calls from source addresses outside the allow-list are answered",
    "echo-pan": "payment answers carry the full card number",
    "desktop-only-page": "the hosted payment page is laid out for a desktop only (fixed 960 px, small buttons and text)",
    "silent-decline": (
        "the shopper is shown no message for a declined card or a failed 3-D Secure challenge "
        "(the merchant's return page the hosted pages send them to shows only the status code)"
    ),
    "slow-api": "every API answer is delayed (300 ms), past the KPI latency thresholds",
    "jpy-scaled": "JPY amounts are stored as if JPY had two decimals: 1 JPY is answered and notified as 100 JPY",
    "mandate-reuse": "a single-use mandate (txservices INITIAL with mandateType SINGLE_USE) is charged again",
    "verify-charges": "a zero-amount card verification (txservices PA of 0.00) is debited 1.00 instead",
    "idempotency-race": "an Idempotency-Key is looked up, then stored after the answer: concurrent requests all run",
    "idempotency-ignores-body": "an Idempotency-Key reused with another body replays the first answer",
    "invoice-link-unpaid": (
        "paying a txservices invoice through its link charges the card, but the invoice stays unpaid and no "
        "callback says it was paid"
    ),
    "xml-drift": "txservices answers in XML name a field differently from JSON (merchantTransactionID)",
    "wallet-approve-ignored": "approving PayPal on gustaffo's page sends the shopper back paid, the payment left PENDING",
}

SLOW_WEBHOOK_DELAY_SECONDS = 15.0


class UnknownFaultError(ValueError):
    """A fault name the sandbox does not know."""


@dataclass(frozen=True)
class Faults:
    """The set of faults switched on for one sandbox instance."""

    names: frozenset[str] = frozenset()

    @classmethod
    def from_names(cls, names: Iterable[str]) -> Faults:
        chosen = frozenset(names)
        unknown = sorted(chosen - FAULTS.keys())
        if unknown:
            raise UnknownFaultError(
                f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}"
            )
        return cls(chosen)

    def active(self, name: str) -> bool:
        if name not in FAULTS:
            raise UnknownFaultError(f"unknown fault {name!r}")
        return name in self.names
