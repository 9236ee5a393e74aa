"""Sending a captured webhook again to a merchant's receiver (`paycert replay`).

What a report holds of a webhook is its redacted capture. Sent as captured, the body and headers are exactly
what the gateway sent, and so is its signature, which only the gateway's secret made; a receiver that knows
another secret refuses it, which is the point of replaying it unchanged. Re-signed (`resign=True`) with the
merchant's secret under the gateway's scheme, it is the same event the merchant can verify.

Redaction may have changed what is in the report (a card number masked, a token starred). Such a body is no
longer what was signed: sent unchanged it cannot verify and would only test the receiver's rejection, so that
is refused; re-signed, it is sent with the masked values as they are, and the caller is told which fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from paycert.core.errors import PaycertError
from paycert.redaction import MASK
from paycert.webhooks.sender import Sent
from paycert.webhooks.signatures import SignatureScheme

# Headers of the original connection, not of the webhook: httpx sets its own for the new request.
HOP_BY_HOP = frozenset(
    {"host", "content-length", "connection", "transfer-encoding", "keep-alive", "te", "upgrade", "expect"}
)
# Standard Webhooks dedupes on webhook-id: a re-signed replay keeps it, so it is the same event.
MESSAGE_ID_HEADER = "webhook-id"


class ReplayRefused(PaycertError):
    """The capture cannot be replayed as asked (a redacted body without --resign)."""


@dataclass(frozen=True)
class Replay:
    """What will go on the wire."""

    body: bytes
    headers: dict[str, str]
    redacted: tuple[str, ...]  # JSON pointers of body fields (or "body") and header names the report masked
    resigned: bool


def redacted_fields(body: str, headers: Mapping[str, str]) -> list[str]:
    """Where redaction changed the capture: body fields as JSON pointers, then header names."""
    found: list[str] = []
    try:
        document: Any = json.loads(body) if body else None
    except ValueError:
        document = None
    if document is None:
        if MASK in body:
            found.append("body")
    else:
        found += _masked_pointers(document, "")
    found += [f"header {name}" for name, value in headers.items() if MASK in value]
    return found


def _masked_pointers(node: Any, at: str) -> list[str]:
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in _masked_pointers(value, f"{at}/{key}")]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in _masked_pointers(value, f"{at}/{i}")]
    return [at or "/"] if isinstance(node, str) and MASK in node else []


def prepare(body: str, headers: Mapping[str, str], scheme: SignatureScheme, *, secret: str | None) -> Replay:
    """The request to send: the capture as it is, or re-signed with `secret` (None: not re-signed)."""
    redacted = redacted_fields(body, headers)
    if redacted and secret is None:
        raise ReplayRefused(
            f"the report redacted {', '.join(redacted)} of this webhook, so its captured signature cannot "
            "match: replay it with --resign"
        )
    kept = {name: value for name, value in headers.items() if name.lower() not in HOP_BY_HOP}
    raw = body.encode("utf-8")
    if secret is None:
        return Replay(raw, kept, (), resigned=False)
    kept = {name: value for name, value in kept.items() if MASK not in value}
    lowered = {name.lower(): value for name, value in kept.items()}
    signed = scheme.sign(secret, raw, msg_id=lowered.get(MESSAGE_ID_HEADER))
    replaced = {name.lower() for name in signed.headers}
    resigned = {name: value for name, value in kept.items() if name.lower() not in replaced}
    return Replay(signed.body, resigned | signed.headers, tuple(redacted), resigned=True)


def send(url: str, replay: Replay, *, timeout: float = 10.0, verify: bool | str = True) -> Sent:
    """POST it; PaycertError (one line) when nothing answered."""
    try:
        answer = httpx.post(url, content=replay.body, headers=replay.headers, timeout=timeout, verify=verify)
    except httpx.HTTPError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PaycertError(f"{url} did not answer: {reason}") from None
    return Sent(answer.status_code, answer.text, answer.elapsed.total_seconds())
