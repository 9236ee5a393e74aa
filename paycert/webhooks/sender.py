"""A sender that plays the gateway against a merchant's webhook receiver.

It builds a webhook body the gateway's way (its JSON Schema's example, with the fields the profile's
pointers name set to a real payment) and sends it signed with the gateway's scheme, or in one of the ways an
attacker would: unsigned, tampered after signing, signed with a wrong secret, a well-shaped garbage, empty or
truncated signature, the signature in a header the scheme does not read, replayed with an old timestamp, with
query parameters added to the receiver's URL, or with the fields the signature does not cover changed. Also
twice, or several copies at once. Every send is recorded as redacted evidence when a recorder is given.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, get_args
from urllib.parse import urlencode

import httpx

from paycert.core.tls import verifier
from paycert.webhooks.signatures import TOLERANCE_SECONDS, SignatureScheme, get_scheme

Mode = Literal[
    "signed",
    "unsigned",
    "tampered",
    "wrong-secret",
    "garbage-signature",
    "empty-signature",
    "truncated-signature",
    "wrong-header",
    "replayed",
]
# Every mode that needs nothing of the scheme beyond a signature ("replayed" needs a signed timestamp).
MODES: tuple[Mode, ...] = tuple(m for m in get_args(Mode) if m != "replayed")
# Every way of not being validly signed that applies to any scheme ("replayed" needs a signed timestamp).
BAD_MODES: tuple[Mode, ...] = tuple(m for m in MODES if m != "signed")
# A replay: signed correctly, but this long before now (well past the schemes' tolerance).
REPLAY_AGE_SECONDS = TOLERANCE_SECONDS + 15 * 60
# Where a misplaced signature goes: a header no scheme reads.
WRONG_HEADER = "X-Webhook-Signature"
BODY_SIGNATURE_FIELD = "checksum"
MAX_CONCURRENT = 16

Record = Callable[[str, Mapping[str, str], bytes, "Sent", str], None]  # label, headers, body, answer, URL


@dataclass(frozen=True)
class Sent:
    """One delivery as the receiver answered it."""

    status: int | None
    text: str
    elapsed_s: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _parts(pointer: str) -> list[str]:
    return (
        [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")] if pointer else []
    )


def set_pointer(document: Any, pointer: str, value: Any) -> None:
    """Set the value a JSON pointer names, creating objects on the way."""
    parts = _parts(pointer)
    if not parts:
        raise ValueError("cannot set the whole document")
    node = document
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def get_pointer(document: Any, pointer: str) -> Any:
    node = document
    for part in _parts(pointer):
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def format_amount(amount: Decimal, amounts: Mapping[str, Any]) -> Any:
    """An amount the way the gateway writes it (profile `amounts.format`)."""
    decimals = int(amounts.get("decimals", 2))
    kind = amounts.get("format", "number")
    if kind == "minor-units":
        return int(amount * (10**decimals))
    if kind == "decimal-string":
        return f"{amount:.{decimals}f}"
    return float(amount)


@dataclass(frozen=True)
class EventShape:
    """What a gateway's webhook body looks like, from its profile and webhook schema."""

    example: dict[str, Any]
    webhooks: Mapping[str, Any]
    statuses: Mapping[str, str]  # vendor status -> canonical state
    amounts: Mapping[str, Any]
    schema: Mapping[str, Any] | None = None  # the webhook's JSON Schema, for the enums of other status fields

    def vendor_status(self, canonical: str) -> str:
        for vendor, state in self.statuses.items():
            if state == canonical:
                return vendor
        raise LookupError(f"no vendor status means {canonical}")

    def event_type(self, canonical: str) -> str | None:
        for event, state in (self.webhooks.get("events") or {}).items():
            if state == canonical:
                return str(event)
        return None

    def body(
        self,
        *,
        payment_id: str,
        state: str,
        amount: Decimal,
        currency: str | None,
        event_id: str | None = None,
    ) -> dict[str, Any]:
        """The example body with the payment's id, a status meaning `state`, its amount and currency."""
        document = copy.deepcopy(self.example)
        hooks = self.webhooks
        event = self.event_type(state)
        if hooks.get("event_type") and event is not None:
            set_pointer(document, hooks["event_type"], event)
        if hooks.get("status"):
            # The event name is a status too for some gateways (txservices): keep the two consistent.
            status = (
                event
                if hooks.get("status") == hooks.get("event_type") and event
                else self.vendor_status(state)
            )
            set_pointer(document, hooks["status"], status)
            self._other_statuses(document, str(hooks["status"]), state)
        set_pointer(document, hooks["payment_id"], self._typed(hooks["payment_id"], payment_id))
        if hooks.get("amount"):
            set_pointer(document, hooks["amount"], format_amount(amount, self.amounts))
            currency_pointer = hooks["amount"].rsplit("/", 1)[0] + "/currency"
            if currency is not None and get_pointer(document, currency_pointer) is not None:
                set_pointer(document, currency_pointer, currency)
        if hooks.get("event_id"):
            set_pointer(document, hooks["event_id"], self._typed(hooks["event_id"], event_id or _event_id()))
        document.pop("checksum", None)  # a body-borne signature is the scheme's to add
        return document

    def _other_statuses(self, document: dict[str, Any], pointer: str, state: str) -> None:
        """Every other field beside the status that holds a status (txservices' signed short
        `transactionStatus` next to its unsigned long `status`) says `state` too, in its own vocabulary (its
        schema's enum): an event then means one thing, whichever field a receiver reads."""
        parent_pointer = pointer.rsplit("/", 1)[0]
        parent = get_pointer(document, parent_pointer) if parent_pointer else document
        properties = _properties_at(self.schema or {}, parent_pointer)
        if not isinstance(parent, dict):
            return
        for name, value in list(parent.items()):
            if (
                f"{parent_pointer}/{name}" == pointer
                or not isinstance(value, str)
                or value not in self.statuses
            ):
                continue
            choices = (properties.get(name) or {}).get("enum") or []
            meaning = [c for c in choices if self.statuses.get(str(c)) == state]
            if meaning:
                parent[name] = meaning[0]

    def _typed(self, pointer: str, value: str) -> Any:
        # Paylican's webhook id is an integer: keep the example's type where the value allows it.
        if isinstance(get_pointer(self.example, pointer), int) and value.isdigit():
            return int(value)
        return value


def _properties_at(schema: Mapping[str, Any], pointer: str) -> Mapping[str, Any]:
    node: Mapping[str, Any] = schema
    for part in _parts(pointer):
        node = (node.get("properties") or {}).get(part) or {}
    return node.get("properties") or {}


def _event_id() -> str:
    return str(secrets.randbelow(10**9) + 10**9)


def tamper(body: bytes, pointer: str | None) -> bytes:
    """The signed body changed after signing: the amount raised (or, without one, a byte appended)."""
    try:
        document = json.loads(body)
    except ValueError:
        return body + b" "
    value = get_pointer(document, pointer) if pointer else None
    if value is None:
        return body.rstrip(b"}") + b',"tampered":true}'
    raised = f"{Decimal(value) * 100:.2f}" if isinstance(value, str) else (value * 100 if value else 1000)
    set_pointer(document, pointer or "", raised)
    return json.dumps(document, separators=(",", ":")).encode()


def unsigned_changes(
    scheme: SignatureScheme, wanted: Mapping[str, Any], actual: Mapping[str, Any]
) -> dict[str, Any]:
    """The top-level fields of `wanted` that differ from `actual` and that the scheme does not sign: what
    an attacker holding a signed `actual` can make it say without breaking its signature.

    A scheme that signs the whole body leaves nothing; one that signs nothing leaves every difference.
    """
    signed = scheme.signed_fields
    if signed is None:
        return {}
    return {
        name: value
        for name, value in wanted.items()
        if name not in signed and name != BODY_SIGNATURE_FIELD and actual.get(name) != value
    }


def _with_field(body: bytes, name: str, change: Callable[[str], str]) -> bytes:
    document = json.loads(body)
    document[name] = change(str(document.get(name, "")))
    return json.dumps(document, separators=(",", ":")).encode()


def _shortened(value: str) -> str:
    # The signature is the value's tail in every scheme (hex, "t=..,v1=<hex>", "v1,<base64>"): cut a quarter.
    return value[: len(value) - max(len(value) // 4, 1)]


class WebhookSender:
    """Sends webhooks to one receiver URL the way one gateway would."""

    def __init__(
        self,
        url: str,
        scheme: str,
        secret: str | None,
        *,
        tamper_pointer: str | None = None,
        verify: bool | str = True,
        timeout: float = 10.0,
        record: Record | None = None,
        now: Callable[[], int] | None = None,
    ) -> None:
        self.url = url
        self.scheme = get_scheme(scheme)
        self.secret = secret
        self.tamper_pointer = tamper_pointer
        self._record = record
        self._now = now or (lambda: int(time.time()))
        self._client = httpx.Client(
            timeout=timeout, verify=verifier(verify) if isinstance(verify, str) else verify
        )

    @property
    def signs(self) -> bool:
        return self.scheme.name != "none"

    def close(self) -> None:
        self._client.close()

    def render(
        self,
        document: Mapping[str, Any] | bytes,
        mode: Mode = "signed",
        *,
        msg_id: str | None = None,
        wrong_secret: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The bytes and headers of one delivery in `mode`."""
        raw = (
            document if isinstance(document, bytes) else json.dumps(document, separators=(",", ":")).encode()
        )
        headers = {"Content-Type": "application/json", "User-Agent": "paycert-webhook-sender/1"}
        if mode == "unsigned" or not self.signs:
            return raw, headers
        if self.secret is None:
            raise ValueError("this sender has no webhook secret to sign with")
        secret = self.secret if mode != "wrong-secret" else (wrong_secret or "not-" + secrets.token_hex(12))
        now = self._now() - (REPLAY_AGE_SECONDS if mode == "replayed" else 0)
        signed = self.scheme.sign(secret, raw, msg_id=msg_id, timestamp=now)
        body, extra = signed.body, dict(signed.headers)
        if mode == "tampered":
            body = tamper(body, self.tamper_pointer)
        spoil = {
            "garbage-signature": lambda value: "0" * len(value),  # the right shape, the wrong value
            "empty-signature": lambda value: "",
            "truncated-signature": _shortened,
        }.get(mode)
        header = self.scheme.signature_header
        if spoil is not None and header is not None:
            extra[header] = spoil(extra[header])
        elif spoil is not None:
            body = _with_field(body, BODY_SIGNATURE_FIELD, spoil)
        if mode == "wrong-header":
            # A valid signature where the scheme does not look for it: a receiver must not find it anyway.
            if header is not None:
                extra[WRONG_HEADER] = extra.pop(header)
            else:
                carried = json.loads(body)
                extra[WRONG_HEADER] = str(carried.pop(BODY_SIGNATURE_FIELD))
                body = json.dumps(carried, separators=(",", ":")).encode()
        return body, {**headers, **extra}

    def deliver(
        self,
        body: bytes,
        headers: Mapping[str, str],
        label: str = "",
        *,
        query: Mapping[str, str] | None = None,
    ) -> Sent:
        url = self.url_with(query)
        started = time.perf_counter()
        try:
            response = self._client.post(url, content=body, headers=dict(headers))
            sent = Sent(response.status_code, response.text[:2000], time.perf_counter() - started)
        except httpx.HTTPError as exc:
            sent = Sent(None, "", time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
        if self._record is not None:
            self._record(label, headers, body, sent, url)
        return sent

    def url_with(self, query: Mapping[str, str] | None) -> str:
        """The receiver's URL, with `query` added to whatever query it already has."""
        if not query:
            return self.url
        return f"{self.url}{'&' if '?' in self.url else '?'}{urlencode(dict(query))}"

    def send(
        self,
        document: Mapping[str, Any] | bytes,
        mode: Mode = "signed",
        *,
        msg_id: str | None = None,
        label: str = "",
        query: Mapping[str, str] | None = None,
    ) -> Sent:
        body, headers = self.render(document, mode, msg_id=msg_id)
        return self.deliver(body, headers, label or f"webhook ({mode})", query=query)

    def send_concurrently(self, document: Mapping[str, Any], copies: int, *, label: str = "") -> list[Sent]:
        """The same signed delivery `copies` times at once (a gateway retrying while the first is in flight)."""
        body, headers = self.render(document, "signed", msg_id=f"msg_{secrets.token_hex(8)}")
        with ThreadPoolExecutor(max_workers=min(copies, MAX_CONCURRENT)) as pool:
            futures = [
                pool.submit(self.deliver, body, headers, label or "concurrent copy") for _ in range(copies)
            ]
            return [f.result(timeout=60) for f in futures]
