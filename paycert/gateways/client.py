"""The generic gateway client: create, read, refund, capture, void, recurring, tokens, payouts — as the
profile says this gateway does them."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from paycert.core.errors import NotApplicable, PaycertError
from paycert.core.evidence import Exchange
from paycert.core.pointers import MISSING, resolve
from paycert.core.states import PaymentState
from paycert.core.tls import verifier
from paycert.gateways import amounts
from paycert.gateways.curl import token_hint, token_variable
from paycert.gateways.hooks_loader import load_hook
from paycert.gateways.http import GatewayHttp, HttpAnswer, Recorder, Waiter, real_wait
from paycert.gateways.sandbox_clock import SandboxClock
from paycert.gateways.token_answers import token_trouble
from paycert.gateways.write_guard import WriteGuard
from paycert.targets.bounds import Deadline
from paycert.targets.target import GatewayTarget
from paycert.targets.templates import fill, placeholders

TOKEN_SAFETY_MARGIN_SECONDS = 30
# Operations that leave a payment behind on a live gateway, and so are undone at the end of the run.
MONEY_OPERATIONS = frozenset(
    {
        "create_payment",
        "authorize",
        "recurring_initial",
        "recurring_repeat",
        "pay_with_token",
        "payout",
        # Issue 16: a single-use mandate's first payment takes money; a verification holds a zero amount,
        # voided all the same so nothing this run made stays open on a live gateway.
        "mandate_single_initial",
        "verify",
    }
)
# What no operation can take back: each one a live run made is a harness error at the end, with its id.
IRREVERSIBLE = {
    "payout": "a payout cannot be refunded or voided",
    "tokenize": "no operation removes a card registration",
}
DONE_STATES = frozenset(
    {
        PaymentState.FAILED,
        PaymentState.CANCELLED,
        PaymentState.REFUNDED,
        PaymentState.VOIDED,
        PaymentState.EXPIRED,
    }
)


@dataclass(frozen=True)
class ApiResult:
    """A gateway's answer to one canonical operation."""

    operation: str
    answer: HttpAnswer
    values: dict[str, Any]  # the profile's `result` pointers, resolved

    @property
    def status(self) -> int:
        return self.answer.status

    @property
    def ok(self) -> bool:
        return 200 <= self.answer.status < 300

    @property
    def body(self) -> Any:
        return self.answer.body

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def error_text(self) -> str:
        """The answer's text, for checking that an error is clear (it says what is wrong)."""
        return self.answer.text


@dataclass
class Payment:
    """A payment this run created, as the client knows it."""

    gateway: str
    id: str
    amount: Decimal
    currency: str
    reference: str
    # Not in repr: assertion messages and tracebacks quote payments, and the context holds the card.
    context: dict[str, Any] = field(repr=False)
    created: ApiResult = field(repr=False)
    redirect_url: str | None = None
    vendor_status: Any = None
    refunded: Decimal | None = None  # what the status API says was refunded (its `refunded_amount`)
    state: PaymentState | None = None
    history: list[str] = field(default_factory=list)
    operation: str = "create_payment"  # the operation that made it (a payout is undone differently)

    def __str__(self) -> str:
        return f"{self.gateway} payment {self.id}"


def retry_wait(clock: SandboxClock | None) -> Waiter:
    """How a 429's Retry-After passes for a gateway (issue 15: retries driven by the sandbox's test clock where
    the target has one). A paycert sandbox (the target's `control_url`, `clock`) has its test clock moved on
    by the wait, which is what its limiter goes by, so honouring the limit costs no real second; a real
    gateway is really waited for. A clock that cannot be moved is waited for too: it also runs in real time."""
    if clock is None:
        return real_wait

    def move_the_clock(seconds: float) -> str:
        try:
            clock.advance(seconds)
        except PaycertError as exc:
            real_wait(seconds)
            return f"waited (the sandbox clock could not be moved: {exc})"
        return f"moved the sandbox's test clock {seconds:g} s on"

    return move_the_clock


class GatewayClient:
    """Drives one gateway through the canonical operations its profile declares."""

    def __init__(
        self,
        target: GatewayTarget,
        recorder: Recorder,
        *,
        clock: Callable[[], float] = time.monotonic,
        run_deadline: Deadline | None = None,
        allow_live_writes: bool = False,
        run_max_amount: float | None = None,
        wait: Waiter | None = None,
    ) -> None:
        self.target = target
        self.profile = target.require_profile()
        self.recorder = recorder
        self.guard = WriteGuard.for_target(
            target, allow_writes=allow_live_writes, run_max_amount=run_max_amount
        )
        self._clock = (
            SandboxClock(target.control_url, verifier(target.ca_file)) if target.control_url else None
        )
        self.http = GatewayHttp(
            target.base_url,
            recorder,
            spec=target.spec,
            timeout=target.timeout_seconds,
            ca_file=target.ca_file,
            run_deadline=run_deadline,
            guard=self.guard,
            wait=wait or retry_wait(self._clock),
        )
        self._token: str | None = None
        self._token_hinted = False
        self._token_expires: float = 0.0
        self._now = clock
        self.context_extra: dict[str, Any] = {}
        self.created: list[Payment] = []  # live targets: undone at the end of the run
        # Webhook registrations this run made, on any target: deleted at the end, so a gateway (a reused
        # sandbox too) does not keep sending every later event to a receiver that closed with the run.
        self.registrations: list[str] = []
        self.left_behind: list[str] = []  # live targets: what no operation can undo (tokens), said at the end

    @property
    def id(self) -> str:
        return self.target.id

    def close(self) -> None:
        self.http.close()
        if self._clock is not None:
            self._clock.close()

    # -- capabilities -------------------------------------------------------------------------------------

    def offers(self, operation: str) -> bool:
        return self.profile.offers(operation)

    def reads(self, operation: str, key: str) -> bool:
        """Whether the profile says where `operation`'s answer holds `key` (a `result` pointer)."""
        return self.offers(operation) and key in (self.profile.operations[operation].get("result") or {})

    def require(self, operation: str, why: str = "") -> None:
        """Stop the scenario as not applicable when the gateway does not offer `operation` (an operation, or a
        feature such as `mandates`); the reason is the profile's (`unsupported`) where it gives one."""
        if not self.offers(operation):
            reason = (
                self.profile.unsupported.get(operation)
                or why
                or f"{self.id} offers no {operation.replace('_', ' ')} operation (profile {self.profile.path.name})"
            )
            raise NotApplicable(reason)

    @property
    def idempotency_header(self) -> str:
        """The header an idempotency key goes in: the profile's `idempotency.header`, else the usual one."""
        return str((self.profile.raw.get("idempotency") or {}).get("header") or "Idempotency-Key")

    def require_lifecycle(self, feature: str) -> Any:
        """The profile's `lifecycle` entry for `feature` (partial_capture, refunds, three_ds_manual, ...); not
        applicable, with the profile's `unsupported` reason, when the gateway does not offer it."""
        entry = self.profile.lifecycle.get(feature)
        if not entry:
            raise NotApplicable(
                self.profile.unsupported.get(feature)
                or f"{self.id} offers no {feature.replace('_', ' ')} (its profile's lifecycle does not name it)"
            )
        return entry

    def require_challenge(self) -> None:
        """Not applicable unless the gateway has a 3-D Secure challenge and a test card that triggers it."""
        if not self.profile.challenge:
            raise NotApplicable(f"{self.id} has no 3-D Secure challenge (its profile has no `challenge`)")
        if self.profile.card_with_outcome("CHALLENGE") is None:
            raise NotApplicable(f"{self.id} lists no test card that is always challenged")

    def require_token(self) -> None:
        if self.profile.auth["kind"] == "none":
            raise NotApplicable(f"{self.id} does not authenticate API calls")

    def wrong_credentials(self) -> dict[str, str]:
        """The target's credentials with every one the token request uses made wrong."""
        return {name: _wrong(value) for name, value in self._token_credentials().items()}

    def one_wrong_credential(self) -> list[tuple[str, dict[str, str]]]:
        """For each credential the token request uses: (its name, the credentials with only it wrong).

        A gateway that checks the client id but not the secret (or the reverse) is caught only this way:
        everything wrong at once is refused by any gateway.
        """
        used = self._token_credentials()
        return [(name, {**used, name: _wrong(value)}) for name, value in used.items()]

    def _token_credentials(self) -> dict[str, str]:
        used = placeholders(self.profile.auth.get("operation", {}).get("body", {}))
        return {name: value for name, value in self.target.credentials.items() if name in used}

    # -- templates ----------------------------------------------------------------------------------------

    def base_context(self) -> dict[str, Any]:
        context: dict[str, Any] = dict(self.target.credentials)
        context["base_url"] = self.target.base_url
        context.update(self.context_extra)
        return context

    def format_amount(self, amount: Decimal | str | float, currency: str | None = None) -> Any:
        """`amount` as the gateway writes it, rounded to the decimals of `currency` (its `currencies` exponent;
        `amounts.decimals` when none is given or it is not listed)."""
        value = self.guard.cap(Decimal(str(amount)))  # live runs never move more than the cap
        return amounts.write(value, self.amount_format, self.profile.decimals_for(currency))

    @property
    def amount_format(self) -> str:
        return str(self.profile.amounts.get("format", amounts.NUMBER))

    def format_unrounded(self, amount: Decimal | str) -> Any:
        """`amount` with all its decimals, in the gateway's format (to offer more than a currency has); None
        when the format cannot carry them (integer minor units)."""
        return amounts.write_unrounded(self.guard.cap(Decimal(str(amount))), self.amount_format)

    def below_cap(self, amount: Decimal | str, room: Decimal | str) -> Decimal:
        """`amount`, lowered so that `amount + room` is still within the live cap (probes that exceed it)."""
        return self.guard.below_cap(Decimal(str(amount)), Decimal(str(room)))

    def parse_amount(self, value: Any, currency: str | None = None) -> Decimal | None:
        """An amount as the gateway writes it (the profile's format, `currency`'s decimals), in major units;
        None if unreadable."""
        return amounts.read(value, self.amount_format, self.profile.decimals_for(currency))

    # -- authentication -----------------------------------------------------------------------------------

    def token_request(self, credentials: Mapping[str, str] | None = None) -> ApiResult:
        """Ask for a token with `credentials` (the target's by default); nothing is cached."""
        auth = self.profile.auth
        if auth["kind"] == "none" or "operation" not in auth:
            raise NotApplicable(f"{self.id} has no token endpoint")
        context = self.base_context()
        if credentials is not None:
            context.update(credentials)
        return self._invoke("auth", auth["operation"], context, authenticated=False)

    def token(self) -> str | None:
        """A valid access token, fetched or refreshed when needed (None for gateways without auth)."""
        auth = self.profile.auth
        if auth["kind"] == "none":
            return None
        if self._token and self._now() < self._token_expires:
            return self._token
        result = self.token_request()
        pointer = auth.get("token", "/access_token")
        token = resolve(result.body, pointer) if result.ok else MISSING
        if not isinstance(token, (str, int)) or isinstance(token, bool) or token == "":
            raise PaycertError(f"{self.id}: {token_trouble(result.answer, pointer, auth)}")
        self.recorder.redactor.add_secret(str(token), token_variable(self.id))
        self._hint_token(result, pointer)
        ttl = resolve(result.body, auth["expires_in"]) if "expires_in" in auth else MISSING
        seconds = float(auth.get("default_ttl_seconds", 300))
        if ttl is not MISSING:
            try:
                seconds = float(ttl)
            except (TypeError, ValueError):
                raise PaycertError(
                    f"{self.id}: the token answer's {auth['expires_in']} is {str(ttl)[:40]!r}, not seconds"
                ) from None
        self._token = str(token)
        self._token_expires = self._now() + max(seconds - TOKEN_SAFETY_MARGIN_SECONDS, 1)
        return self._token

    def _hint_token(self, result: ApiResult, pointer: str) -> None:
        """Once per gateway, say beside the token request how to set the token variable its curl lines use."""
        if self._token_hinted or "json" not in result.answer.headers.get("content-type", ""):
            return
        exchanges = [e for e in self.recorder.log.items if isinstance(e, Exchange) and e.status is not None]
        hint = token_hint(self.id, exchanges[-1].curl, pointer) if exchanges else None
        if hint:
            self._token_hinted = True
            self.recorder.note(hint, f"to run the curl lines: set ${token_variable(self.id)}")

    def auth_headers(self, token: str | None = None) -> dict[str, str]:
        apply = self.profile.auth.get("apply")
        value = token if token is not None else self.token()
        if not apply or value is None:
            return {}
        return {apply["header"]: fill(apply["value"], {"token": value})}

    # -- operations ---------------------------------------------------------------------------------------

    def call(
        self,
        operation: str,
        context: Mapping[str, Any] | None = None,
        *,
        authenticated: bool = True,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        label: str = "",
    ) -> ApiResult:
        """Perform a canonical operation; raises NotApplicable when the profile does not declare it."""
        self.require(operation)
        merged = self.base_context()
        merged.update(context or {})
        declared = self.profile.operations[operation]
        result = self._invoke(
            operation,
            declared,
            merged,
            authenticated=authenticated,
            token=token,
            headers=headers,
            label=label,
        )
        if result.status == 401 and authenticated and token is None and self._token is not None:
            # The cached token may have expired on the gateway's clock (a sandbox's test clock moves faster
            # than ours): fetch a fresh one once and repeat the call.
            self._token = None
            result = self._invoke(
                operation,
                declared,
                merged,
                authenticated=True,
                headers=headers,
                label=f"{label or operation} (new token)",
            )
        if result.ok and (self.target.is_live or operation == "register_webhook"):
            self.remember(operation, result, merged)
        return result

    def remember(self, operation: str, result: ApiResult, context: Mapping[str, Any]) -> None:
        """Keep what a live call left behind, whichever suite made it, so the end of the run can undo it."""
        if operation == "register_webhook":
            self.registrations.append(str(result.get("webhook_id") or ""))
            return
        if operation == "tokenize":
            self.left_behind.append(
                f"{self.id}: card registration {result.get('token') or '(no id in the answer)'} left on the "
                f"live gateway: {IRREVERSIBLE['tokenize']}"
            )
            return
        payment_id = result.get("payment_id")
        if operation not in MONEY_OPERATIONS or payment_id in (None, ""):
            return
        if any(p.id == str(payment_id) for p in self.created):
            return
        amount = self.parse_amount(context.get("amount"), context.get("currency")) or Decimal(
            str(context.get("amount_decimal") or 0)
        )
        payment = Payment(
            gateway=self.id,
            id=str(payment_id),
            amount=amount,
            currency=str(context.get("currency") or ""),
            reference=str(context.get("reference") or ""),
            context={**context, "payment_id": str(payment_id)},
            created=result,
            operation=operation,
        )
        self._observe(payment, result.get("status"))
        self.created.append(payment)

    def _invoke(
        self,
        name: str,
        declared: Mapping[str, Any],
        context: dict[str, Any],
        *,
        authenticated: bool = True,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        label: str = "",
    ) -> ApiResult:
        op = self.profile.spec.operation(declared["operation_id"])
        path = op.path
        params = {**_path_params_from(path, context), **fill(declared.get("path_params", {}), context)}
        for key, value in params.items():
            path = path.replace("{" + key + "}", str(value))
        body = fill(declared["body"], context) if "body" in declared else None
        if declared.get("hook") and isinstance(body, dict):
            hook = load_hook(self.profile.raw["hooks"][declared["hook"]])
            body = hook(name, body, self.target.credentials)
        sent: dict[str, str] = dict(fill(declared.get("headers", {}), context))
        if declared.get("accept"):
            sent["Accept"] = declared["accept"]
        if authenticated and declared.get("authenticated", True):
            sent.update(self.auth_headers(token))
        sent.update(headers or {})
        query = fill(declared.get("query", {}), context) or None
        if query and declared.get("hook"):
            hook = load_hook(self.profile.raw["hooks"][declared["hook"]])
            query = hook(name, query, self.target.credentials)
        form = declared.get("content_type") == "application/x-www-form-urlencoded"
        answer = self.http.send(
            op.method,
            path,
            headers=sent,
            json_body=None if form or body is None else body,
            form_body=body if form and body is not None else None,
            params=query,
            operation_id=op.operation_id,
            label=label or name,
        )
        values = {}
        for key, pointer in declared.get("result", {}).items():
            found = resolve(answer.body, pointer)
            if found is not MISSING:
                values[key] = found
        return ApiResult(name, answer, values)

    # -- the payment life cycle ---------------------------------------------------------------------------

    def new_context(
        self,
        amount: Decimal | str | float,
        *,
        currency: str = "EUR",
        card: Mapping[str, Any] | None = None,
        return_url: str | None = None,
        notification_url: str | None = None,
        reference: str | None = None,
    ) -> dict[str, Any]:
        ref = reference or f"PC-{uuid.uuid4().hex[:12].upper()}"
        capped = self.guard.cap(Decimal(str(amount)))
        decimals = self.profile.decimals_for(currency)
        context: dict[str, Any] = {
            "amount": self.format_amount(amount, currency),
            "amount_decimal": amounts.write(capped, amounts.DECIMAL_STRING, decimals),
            "amount_minor": amounts.write(capped, amounts.MINOR_UNITS, decimals),
            "currency": currency,
            "reference": ref,
            "return_url": return_url,
            "notification_url": notification_url,
        }
        if card is not None:
            context["card"] = dict(card)
        return context

    def create_payment(
        self,
        amount: Decimal | str | float,
        *,
        currency: str = "EUR",
        card: Mapping[str, Any] | None = None,
        return_url: str | None = None,
        notification_url: str | None = None,
        operation: str = "create_payment",
        extra: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Payment:
        """Create a payment; a gateway that refuses raises PaymentRefused with its answer. `headers` are sent
        too (an Accept that asks for XML)."""
        context = self.new_context(
            amount, currency=currency, card=card, return_url=return_url, notification_url=notification_url
        )
        context.update(extra or {})
        key = idempotency_key or uuid.uuid4().hex
        result = self.call(operation, context, headers={self.idempotency_header: key, **(headers or {})})
        if not result.ok:
            raise PaymentRefused(result)
        payment_id = result.get("payment_id")
        if payment_id in (None, ""):
            raise PaycertError(
                f"{self.id}: {operation} answered {result.status} without a payment id at "
                f"{self.profile.operations[operation].get('result', {}).get('payment_id')}"
            )
        context["payment_id"] = str(payment_id)
        context["created"] = result.answer.body
        payment = Payment(
            gateway=self.id,
            id=str(payment_id),
            amount=self.guard.cap(Decimal(str(amount))),  # what was sent, not what was asked for
            currency=currency,
            reference=str(context["reference"]),
            context=context,
            created=result,
            redirect_url=result.get("redirect_url"),
        )
        payment.operation = operation
        self._observe(payment, result.get("status"))
        if self.target.is_live:
            # The richer record replaces the one `call` kept (same id): its context is the one to undo with.
            self.created = [p for p in self.created if p.id != payment.id] + [payment]
        return payment

    def undo_live_payments(self) -> list[str]:
        """Undo every payment this run created on the live gateway: refund what completed, void what is only
        authorized. Returns one line per payment that could not be undone (its id and amount, and why), and
        per registration no operation removes: a live run says what it left behind, never nothing."""
        problems = list(self.left_behind)
        for payment in self.created:
            why = self._undo(payment)
            if why:
                problems.append(
                    f"{self.id}: live payment {payment.id} ({payment.amount} {payment.currency}) "
                    f"was not undone: {why}"
                )
        # Registrations last: the refunds' webhooks still have somewhere to go.
        return problems + self.unregister_webhooks()

    def unregister_webhooks(self) -> list[str]:
        """Delete every webhook registration this run made; one line per registration left behind."""
        problems = [p for p in map(self._unregister, self.registrations) if p]
        self.registrations.clear()  # once: a second call must not delete (and report) them again
        return problems

    def _unregister(self, webhook_id: str) -> str:
        """Delete a webhook registration this run made; why it could not, or ""."""
        where = "live gateway" if self.target.is_live else "gateway"
        left = f"{self.id}: webhook registration {webhook_id or '(no id in the answer)'} left on the {where}"
        if not webhook_id:
            return f"{left}: the registration answer names no id to delete"
        if not self.offers("delete_webhook"):
            return f"{left}: the profile offers no delete_webhook operation"
        try:
            deleted = self.call(
                "delete_webhook", {"webhook_id": webhook_id}, label="delete paycert's registration"
            )
        except PaycertError as exc:
            return f"{left}: {exc}"
        return "" if deleted.ok else f"{left}: delete_webhook answered HTTP {deleted.status}"

    def _undo(self, payment: Payment) -> str:
        """Why `payment` could not be undone, or "" when it was (or never moved money)."""
        if payment.operation in IRREVERSIBLE:
            return IRREVERSIBLE[payment.operation]
        try:
            state = self.state_of(payment) if self.offers("get_payment") else payment.state
        except PaycertError as exc:
            return f"its status could not be read ({exc})"
        if state in DONE_STATES or state in (PaymentState.PENDING, PaymentState.CHALLENGE):
            return (
                ""  # declined, cancelled, refunded, voided, expired, or never paid: no money moved or stays
            )
        if state is None:
            return f"its state ({payment.vendor_status!r}) could not be read"
        undo = {
            PaymentState.COMPLETED: "refund",
            PaymentState.PARTIALLY_REFUNDED: "refund",
            PaymentState.AUTHORIZED: "void",
        }.get(state)
        if undo is None:
            return f"its state is {payment.vendor_status!r}, which paycert cannot undo"
        if not self.offers(undo):
            return f"it is {state.value.lower()} and {self.id}'s profile offers no {undo} operation"
        left = payment.amount - (payment.refunded or Decimal(0)) if undo == "refund" else None
        try:
            result = self.follow_up(undo, payment, left)
        except PaycertError as exc:
            return f"the {undo} failed ({exc})"
        return "" if result.ok else f"the {undo} answered HTTP {result.status}"

    def read_refund(self, payment: Payment, refund_id: str) -> ApiResult:
        """Read one refund of `payment` back on its own, through the profile's `lifecycle.refunds.read`.

        The refund is read like a transaction of its own: its id goes in as {payment_id} (txservices reads it
        with getPayment, gustaffo with getRefund); {parent_id} is the payment it refunded.
        """
        operation = str(self.require_lifecycle("refunds").get("read") or "")
        if not operation:
            raise NotApplicable(
                self.profile.unsupported.get("refund_read")
                or f"{self.id}'s profile names no operation that reads a refund back (lifecycle.refunds.read)"
            )
        context = {**payment.context, "payment_id": refund_id, "parent_id": payment.id}
        return self.call(operation, context, label=f"read refund {refund_id}")

    def refresh(self, payment: Payment) -> ApiResult:
        """Read the payment back through the status API and update what we know of it."""
        result = self.call("get_payment", payment.context, label="get_payment")
        if result.ok:
            self._observe(payment, result.get("status"))
            payment.refunded = self.parse_amount(result.get("refunded_amount"), payment.currency)
            if payment.state is PaymentState.COMPLETED and self.profile.refunds_by_amount:
                total = self.parse_amount(result.get("amount"), payment.currency)
                payment.state = self._refund_state(payment, total)
        return result

    def _refund_state(self, payment: Payment, total: Decimal | None) -> PaymentState:
        """A completed payment's refund state from its amounts, for gateways with no refund status."""
        refunded = payment.refunded or Decimal(0)
        if refunded <= 0:
            return PaymentState.COMPLETED
        return (
            PaymentState.REFUNDED
            if refunded >= (total or payment.amount)
            else PaymentState.PARTIALLY_REFUNDED
        )

    def state_of(self, payment: Payment) -> PaymentState | None:
        result = self.refresh(payment)
        if not result.ok:
            raise PaycertError(f"{self.id}: status of {payment.id} answered HTTP {result.status}")
        return payment.state

    def _observe(self, payment: Payment, vendor_status: Any) -> None:
        if vendor_status is None:
            return
        payment.vendor_status = vendor_status
        payment.state = self.profile.state_of(vendor_status)
        payment.history.append(str(vendor_status))

    def follow_up(
        self,
        operation: str,
        payment: Payment,
        amount: Decimal | str | float | None = None,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> ApiResult:
        """A back-office operation on a payment (refund, capture, void, recurring_repeat, ...); a fresh
        idempotency key unless `idempotency_key` is given (to send the same request again); `headers` are sent
        too (an Accept that asks for XML)."""
        context = dict(payment.context)
        context["parent_id"] = payment.id
        if amount is not None:
            context["amount"] = self.format_amount(amount, payment.currency)
            context["amount_decimal"] = amounts.write(
                self.guard.cap(Decimal(str(amount))),
                amounts.DECIMAL_STRING,
                self.profile.decimals_for(payment.currency),
            )
        context["reference"] = f"PC-{uuid.uuid4().hex[:12].upper()}"
        context.update(extra)
        key = idempotency_key or uuid.uuid4().hex
        return self.call(operation, context, headers={self.idempotency_header: key, **(headers or {})})


class PaymentRefused(PaycertError):
    """The gateway would not create the payment; `result` holds its answer."""

    def __init__(self, result: ApiResult) -> None:
        super().__init__(f"{result.operation} refused with HTTP {result.status}")
        self.result = result


def _path_params_from(path: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """Fill `{paymentId}`-style path parameters from the context's payment id when the profile is silent."""
    params: dict[str, Any] = {}
    if "payment_id" in context:
        for name in re.findall(r"\{(\w+)\}", path):
            params[name] = context.get(name, context["payment_id"])
    return params


def _wrong(value: str) -> str:
    # Recognisably paycert's, and not the right value with something appended (a prefix check would pass).
    return f"paycert-wrong-{value[:2]}"
