"""The security suite's probes of one gateway (002 §1.1, §2.3): bad tokens on every operation, a bounded
burst, a call from a second source address, and the card numbers the run's responses carried.

Requests that paycert's client can make go through the HTTP seam (recorded, redacted); the burst and the
second-address call cannot (many at once, a bound socket) and are run by `paycert.probes`, their outcome noted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from paycert.core.errors import NotApplicable, PaycertError
from paycert.core.pointers import MISSING, resolve
from paycert.core.results import Outcome, TestResult
from paycert.gateways.client import ApiResult, GatewayClient
from paycert.gateways.http import HttpAnswer
from paycert.gateways.pan_watch import PanSighting, card_numbers_in
from paycert.plugin.clock import GatewayTime
from paycert.plugin.contract_auth import security_requirements
from paycert.plugin.outcomes import NOT_EVALUATED_PREFIX
from paycert.plugin.session import RunState
from paycert.probes.burst import BurstOutcome, BurstRequest, burst
from paycert.probes.source_address import SourceAnswer, SourceRequest, call_from
from paycert.targets.spec import Operation
from paycert.targets.templates import fill

PROBE_ID = "paycert-security-probe"  # the path parameters of probes: no such payment
MALFORMED_TOKEN = "not a token!"
PAN_ECHO = "SEC-PAN-ECHO"


@dataclass(frozen=True)
class Refusal:
    """One call with a bad token: which operation, which token, what came back."""

    operation: str
    token_kind: str
    answer: HttpAnswer


class SecurityProbes:
    """What the security suite asks of one gateway."""

    def __init__(self, run: RunState, gateway: GatewayClient) -> None:
        self.run = run
        self.gateway = gateway
        self.unevaluated: list[str] = []  # sub-checks that could not be made, with the reason

    # -- SEC-ACCESS ---------------------------------------------------------------------------------------

    def protected_operations(self) -> list[Operation]:
        """The spec's operations that require a credential; on a live target without writes, reads only."""
        spec = self.gateway.profile.spec
        found = []
        for operation in spec.operations.values():
            if not any(r for r in security_requirements(spec.document, operation.raw)):
                continue
            if operation.operation_id == (self.gateway.profile.auth.get("operation") or {}).get(
                "operation_id"
            ):
                continue
            if not self.gateway.guard.may_write and operation.method not in ("GET", "HEAD"):
                self.unevaluated.append(f"{operation.operation_id} not sent: {self.gateway.id} is live")
                continue
            found.append(operation)
        return found

    def bad_tokens(self) -> dict[str, str | None]:
        """Token kind -> the token (None: no token at all); kinds that cannot be made are noted, not sent."""
        tokens: dict[str, str | None] = {"no token": None, "a malformed token": MALFORMED_TOKEN}
        expired = self._expired_token()
        if expired is not None:
            tokens["an expired token"] = expired
        other = self._other_clients_token()
        if other is not None:
            tokens["another client's token"] = other
        return tokens

    def call_with(self, operation: Operation, token_kind: str, token: str | None) -> Refusal:
        """`operation` with a bad token (or none): no body beyond an empty one, path parameters unknown."""
        path = operation.path
        for name in _path_params(path):
            path = path.replace("{" + name + "}", PROBE_ID)
        headers = {"Accept": "application/json"}
        if token is not None:
            headers.update(self.gateway.auth_headers(token))
        body: Any = {} if operation.method in ("POST", "PUT", "PATCH") else None
        answer = self.gateway.http.send(
            operation.method,
            path,
            headers=headers,
            json_body=body,
            label=f"{operation.operation_id} with {token_kind}",
        )
        return Refusal(operation.operation_id, token_kind, answer)

    def error_trouble(self, refusal: Refusal) -> str:
        """What is wrong with a refusal's body (not JSON, not UTF-8, a secret or a card number in it), or ""."""
        answer = refusal.answer
        where = f"{refusal.operation} with {refusal.token_kind}"
        content_type = answer.headers.get("content-type", "")
        if "json" not in content_type.split(";")[0]:
            return f"{where}: the error is {content_type or 'untyped'}, not JSON"
        raw = answer.text.encode("utf-8", "surrogateescape")
        try:
            json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return f"{where}: the error body is not JSON in UTF-8"
        for secret in self.run.redactor.secrets:
            if len(secret) >= 6 and secret in answer.text:
                return f"{where}: the error body echoes a credential or token"
        cards = card_numbers_in(answer.text, self.run.recorder.pans.known)
        if cards:
            return f"{where}: the error body carries a card number ({', '.join(sorted(cards))})"
        return ""

    def _expired_token(self) -> str | None:
        """A token of this merchant aged past its lifetime on the gateway's test clock; None if impossible."""
        if not self.gateway.target.control_url:
            self.unevaluated.append(
                "an expired token: the target has no control_url (test clock) to age one, and waiting a "
                "token's lifetime is not bounded"
            )
            return None
        issued = self.gateway.token_request()
        token = _token_in(self.gateway, issued)
        if token is None:
            raise PaycertError(f"{self.gateway.id}: the token request answered HTTP {issued.status}")
        auth = self.gateway.profile.auth
        ttl = resolve(issued.body, auth["expires_in"]) if "expires_in" in auth else MISSING
        seconds = float(ttl) if ttl is not MISSING else float(auth.get("default_ttl_seconds", 300))
        with GatewayTime(self.gateway.target.control_url, verify=_verify(self.gateway)) as time:
            time.pass_time(seconds + 60)
        self.gateway.recorder.note(
            f"the sandbox clock moved {seconds + 60:g} s: a fresh token is now expired"
        )
        return token

    def _other_clients_token(self) -> str | None:
        other = self.gateway.target.other_credentials
        if not other:
            self.unevaluated.append(
                f"another client's token: the target names no other_client for {self.gateway.id}"
            )
            return None
        issued = self.gateway.token_request(other)
        token = _token_in(self.gateway, issued)
        if token is None:
            raise PaycertError(
                f"{self.gateway.id}: the other client's token request answered HTTP {issued.status}"
            )
        return token

    def not_evaluated_unless_complete(self) -> None:
        """A sub-check that could not be made keeps the criterion from passing: not evaluated, with why."""
        if self.unevaluated:
            pytest.skip(f"{NOT_EVALUATED_PREFIX}{'; '.join(self.unevaluated)}")

    # -- SEC-RATE-LIMIT -----------------------------------------------------------------------------------

    def published_rate(self) -> dict[str, Any]:
        rate = (self.gateway.profile.raw.get("limits") or {}).get("rate")
        if not rate:
            raise NotApplicable(
                f"{self.gateway.id} publishes no rate limit (no limits.rate in {self.gateway.profile.path.name})"
            )
        return dict(rate)

    def read_to_burst(self) -> tuple[str, ApiResult]:
        """The canonical read the profile's `limits.rate.operation` is, called once the usual way."""
        operation_id = self.published_rate()["operation"]
        # Several profile operations may send the same API operation (paylican reads an invoice with its
        # getPayment): the payment status read is the canonical one, the others need values of their own.
        names = [
            n for n, d in self.gateway.profile.operations.items() if d.get("operation_id") == operation_id
        ]
        name = "get_payment" if "get_payment" in names else next(iter(names), None)
        if name is None:
            raise PaycertError(
                f"{self.gateway.id}: limits.rate.operation {operation_id} is none of the profile's operations"
            )
        return name, self.gateway.call(name, {"payment_id": PROBE_ID}, label=f"{name} before the burst")

    def read_again(self, name: str) -> ApiResult:
        """The burst's read once more through paycert's client, which waits out a 429's Retry-After."""
        return self.gateway.call(name, {"payment_id": PROBE_ID}, label=f"{name} after the burst")

    def burst(self, first: ApiResult) -> BurstOutcome:
        """The bounded burst (the target's security.rate_limit) at the call `first` made."""
        declared = self.gateway.profile.operations[first.operation]
        headers = dict(fill(declared.get("headers", {}), self.gateway.base_context()))
        if declared.get("accept"):
            headers["Accept"] = declared["accept"]
        headers.update(self.gateway.auth_headers())
        request = BurstRequest(_method(self.gateway, first), first.answer.url, headers)
        bounds = self.run.target.security.rate_limit
        outcome = burst(request, bounds, verify=_verify(self.gateway))
        self.gateway.recorder.note(
            f"burst at {first.operation} (at most {bounds.max_requests} requests, {bounds.max_seconds:g} s, "
            f"{bounds.concurrency} at once): {outcome.summary()}",
            "burst",
        )
        return outcome

    # -- SEC-IP-ALLOWLIST ---------------------------------------------------------------------------------

    def require_allowlist(self) -> None:
        if not (self.gateway.profile.raw.get("access") or {}).get("allowlist"):
            raise NotApplicable(
                f"{self.gateway.id} restricts no source addresses (no access.allowlist in "
                f"{self.gateway.profile.path.name})"
            )

    def read_from_usual_address(self) -> ApiResult:
        self.gateway.require("get_payment")
        return self.gateway.call(
            "get_payment", {"payment_id": PROBE_ID}, label="status from the usual address"
        )

    def read_from_probe_address(self, usual: ApiResult) -> SourceAnswer:
        """The same call as `usual`, sent from the target's security.probe_address."""
        source = self.run.target.security.probe_address
        declared = self.gateway.profile.operations[usual.operation]
        headers = dict(fill(declared.get("headers", {}), self.gateway.base_context()))
        if declared.get("accept"):
            headers["Accept"] = declared["accept"]
        headers.update(self.gateway.auth_headers())
        request = SourceRequest(_method(self.gateway, usual), usual.answer.url, headers)
        answer = call_from(
            source, request, seconds=self.gateway.target.timeout_seconds, verify=_verify(self.gateway)
        )
        self.gateway.recorder.note(
            f"the same call from {source}: "
            + (f"HTTP {answer.status} ({answer.content_type})" if answer.status else answer.error),
            "second source address",
        )
        return answer

    # -- SEC-PAN-ECHO -------------------------------------------------------------------------------------

    def card_numbers_seen(self) -> list[PanSighting]:
        """Every full card number a response from this gateway carried so far in the run."""
        return sightings_of(self.run, self.gateway.target.base_url)


def sightings_of(run: RunState, base_url: str) -> list[PanSighting]:
    safe_base = run.redactor.url(base_url)
    return [s for s in run.recorder.pans.sightings if s.url.startswith(safe_base)]


def pan_echo_results(run: RunState) -> Iterator[TestResult]:
    """SEC-PAN-ECHO failures for card numbers seen anywhere in the run (any suite), one per gateway."""
    if PAN_ECHO not in run.scope:
        return
    for gid, target in run.target.gateways.items():
        seen = sightings_of(run, target.base_url)
        if seen:
            yield TestResult(
                nodeid=f"paycert::responses-of-the-run[{gid}]",
                criteria=(PAN_ECHO,),
                gateway=gid,
                outcome=Outcome.FAIL,
                reason=f"{len(seen)} response(s) carried a full card number, first: {seen[0].describe()}",
                evidence=[
                    {"kind": "note", "text": f"full card number: {s.describe()}", "label": "finding: PAN"}
                    for s in seen[:20]
                ],
                checks=len(seen),
            )


def _path_params(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def _method(gateway: GatewayClient, result: ApiResult) -> str:
    operation_id = gateway.profile.operations[result.operation]["operation_id"]
    return gateway.profile.spec.operation(operation_id).method


def _verify(gateway: GatewayClient) -> bool | str:
    ca = gateway.target.ca_file
    return str(ca) if ca else True


def _token_in(gateway: GatewayClient, result: ApiResult) -> str | None:
    token = resolve(result.body, gateway.profile.auth.get("token", "/access_token")) if result.ok else MISSING
    if token is MISSING or token in (None, "") or isinstance(token, bool):
        return None
    gateway.recorder.redactor.add_secret(str(token))
    return str(token)


@pytest.fixture
def security(paycert_run: RunState, gateway: GatewayClient) -> SecurityProbes:
    """The security suite's probes of the gateway this test runs against."""
    return SecurityProbes(paycert_run, gateway)
