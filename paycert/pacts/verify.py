"""Verify a gateway against a pact file with pact's own verifier (the Rust core), one result per interaction.

The verifier replays each interaction against the gateway's base URL; paycert's state relay makes each
provider state true and fills what only the provider can know. Interactions whose state needs the gateway's
provider-state endpoint are not evaluated (with the reason) when the target has none. The verifier's own
mismatch text is kept, redacted, as the evidence of a failure.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from pact import Verifier

from paycert.core.errors import PaycertError
from paycert.core.results import Outcome, TestResult
from paycert.gateways.client import GatewayClient
from paycert.gateways.http import Recorder, describe_transport_error
from paycert.pacts.needs import GATEWAY_STATES
from paycert.pacts.relay import MESSAGE_PATH, BringAbout, StateRelay
from paycert.redaction import Redactor
from paycert.targets.target import GatewayTarget

CRITERION = "CON-PACT"
HTTP_INTERACTION = "Synchronous/HTTP"
MESSAGE_INTERACTION = "Asynchronous/Messages"


@dataclass(frozen=True)
class InteractionResult:
    description: str
    states: tuple[str, ...]
    outcome: Outcome
    detail: str = ""


@dataclass
class PactVerification:
    """What the verifier said about one pact file and one gateway."""

    pact_file: Path
    consumer: str
    provider: str
    gateway: str
    interactions: list[InteractionResult] = field(default_factory=list)
    output: str = ""
    duration_s: float = 0.0

    @property
    def outcome(self) -> Outcome:
        outcomes = {i.outcome for i in self.interactions}
        if not outcomes:
            return Outcome.NOT_EVALUATED
        for worst in (Outcome.FAIL, Outcome.NOT_EVALUATED):
            if worst in outcomes:
                return worst
        return Outcome.PASS

    def to_results(self, nodeid: str) -> list[TestResult]:
        """One CON-PACT result per interaction, the verifier's output as the evidence of each."""
        evidence = [{"kind": "note", "label": "pact verifier output", "text": self.output[-6000:]}]
        return [
            TestResult(
                nodeid=f"{nodeid}::{i.description}",
                criteria=(CRITERION,),
                gateway=self.gateway,
                outcome=i.outcome,
                reason=i.detail or f"{i.description}: verified by the pact verifier",
                duration_s=self.duration_s / max(len(self.interactions), 1),
                evidence=evidence,
                checks=1,  # the verifier replayed this interaction against the provider
            )
            for i in self.interactions
        ]


def read_pact(pact_file: Path) -> dict[str, Any]:
    try:
        document = json.loads(pact_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PaycertError(f"{pact_file} is not a readable pact file: {exc}") from None
    if not isinstance(document, dict) or "interactions" not in document or "provider" not in document:
        raise PaycertError(f"{pact_file} is not a pact file (no provider or interactions)")
    return document


def verify_pact(
    pact_file: Path,
    target: GatewayTarget,
    redactor: Redactor | None = None,
    messages: Mapping[str, bytes] | None = None,
    bring_about: BringAbout | None = None,
) -> PactVerification:
    """Replay `pact_file` against `target` with pact's verifier; raises PaycertError if it cannot run.

    `messages` are the bodies the gateway really sent during the run, by the description of the message
    interaction they answer (a webhook a real payment triggered); a message interaction without one is not
    evaluated, never passed. `bring_about` makes a gateway state true on a gateway with no provider-state
    endpoint; only a state neither can reach is not evaluated.
    """
    messages = messages or {}
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")  # the verifier would otherwise try to phone home
    document = read_pact(pact_file)
    redactor = redactor or Redactor(target.secrets)
    provider = str(document["provider"]["name"])
    result = PactVerification(
        pact_file, str(document.get("consumer", {}).get("name", "")), provider, target.id
    )
    http_allowed: list[str] = []
    message_allowed: list[str] = []
    for interaction in document["interactions"]:
        states = tuple(str(s["name"]) for s in interaction.get("providerStates", []))
        description = str(interaction["description"])
        kind = interaction.get("type", HTTP_INTERACTION)
        if kind == MESSAGE_INTERACTION:
            if description in messages:
                message_allowed.append(description)
            else:
                reason = (
                    f"{description}: not evaluated: no such message from {target.id} was captured "
                    "(message interactions are verified by `paycert run --suite pacts`, which pays a payment)"
                )
                result.interactions.append(
                    InteractionResult(description, states, Outcome.NOT_EVALUATED, reason)
                )
        elif kind != HTTP_INTERACTION:
            result.interactions.append(
                InteractionResult(
                    description, states, Outcome.NOT_EVALUATED, f"{kind} interactions are not verified"
                )
            )
        elif not target.control_url and bring_about is None and set(states) & GATEWAY_STATES:
            reason = (
                f"{description}: not evaluated: {target.id} has no provider-state endpoint (target control_url) "
                f"and nothing can bring about {', '.join(sorted(set(states) & GATEWAY_STATES))!r}"
            )
            result.interactions.append(InteractionResult(description, states, Outcome.NOT_EVALUATED, reason))
        else:
            http_allowed.append(description)
    if not http_allowed and not message_allowed:
        return result
    _reach(target)
    client = GatewayClient(target, Recorder(redactor))
    started = time.monotonic()
    outputs: list[str] = []
    try:
        with StateRelay(client, redactor, bring_about) as relay:
            relay.messages.update(messages)
            if http_allowed:
                # The gateway's own base URL: the verifier sends every HTTP interaction there.
                verifier = Verifier(provider, host=urlsplit(target.base_url).hostname).add_transport(
                    url=target.base_url
                )
                if target.ca_file:
                    verifier.disable_ssl_verification()  # it cannot take a CA file; ours is made at start
                report, output = _run(verifier, pact_file, relay, http_allowed, target, redactor)
                outputs.append(output)
                result.interactions.extend(
                    _interaction_results(report, http_allowed, output, redactor, relay.errors)
                )
            if message_allowed:
                # Messages come from the relay on loopback: the bodies the gateway really sent.
                verifier = Verifier(provider, host="127.0.0.1").add_transport(
                    protocol="message", port=relay.port, path=MESSAGE_PATH, scheme="http"
                )
                report, output = _run(verifier, pact_file, relay, message_allowed, target, redactor)
                outputs.append(output)
                result.interactions.extend(
                    _interaction_results(report, message_allowed, output, redactor, relay.errors)
                )
    finally:
        client.close()
    result.duration_s = time.monotonic() - started
    result.output = "\n".join(_summary(o) for o in outputs)
    return result


def _run(
    verifier: Verifier,
    pact_file: Path,
    relay: StateRelay,
    descriptions: list[str],
    target: GatewayTarget,
    redactor: Redactor,
) -> tuple[dict[str, Any], str]:
    """Run pact's verifier on `descriptions` of the pact; its results and its (redacted) output."""
    verifier = (
        verifier.add_source(pact_file)
        .state_handler(relay.url, teardown=True, body=True)
        .set_request_timeout(int(target.timeout_seconds * 1000))
        .set_coloured_output(enabled=False)
        .filter("^(?:" + "|".join(re.escape(d) for d in descriptions) + ")$")
    )
    try:
        with _quiet_stdout():
            verifier.verify()
    except RuntimeError:
        pass  # a failed verification: its results say which interactions failed and why
    return verifier.results, redactor.text(verifier.output(strip_ansi=True))


def _reach(target: GatewayTarget) -> None:
    """An unreachable gateway means the verification cannot run, not that the pact failed."""
    verify: str | bool = str(target.ca_file) if target.ca_file else True
    try:
        httpx.get(target.base_url + "/", timeout=min(target.timeout_seconds, 5.0), verify=verify)
    except httpx.TransportError as exc:
        raise PaycertError(describe_transport_error(exc, target.base_url)) from None


def _interaction_results(
    report: dict[str, Any], allowed: list[str], output: str, redactor: Redactor, relay_errors: list[str]
) -> list[InteractionResult]:
    by_description: dict[str, InteractionResult] = {}
    failures: dict[str, str] = {}
    for error in report.get("errors", []):
        # The verifier names the interaction "Verifying a pact between ... - <description>".
        label = str(error.get("interaction", error.get("description", "")))
        description = next((d for d in allowed if label == d or label.endswith(f" - {d}")), label)
        failures[description] = redactor.text(_mismatch_text(error))
    for item in report.get("interactionResults", []) or []:
        description = str(item.get("description", ""))
        states = tuple(str(s) for s in item.get("providerStates", []))
        ok = str(item.get("result", "")).upper() == "OK" and description not in failures
        detail = "" if ok else f"{description}: {failures.get(description) or item.get('result')}"
        if not ok and relay_errors:
            detail += f" ({'; '.join(dict.fromkeys(relay_errors))})"
        by_description[description] = InteractionResult(
            description, states, Outcome.PASS if ok else Outcome.FAIL, detail
        )
    for description in allowed:
        if description not in by_description:
            why = failures.get(description) or "; ".join(relay_errors) or _excerpt(output, description)
            by_description[description] = InteractionResult(
                description, (), Outcome.FAIL, f"{description}: {why or 'the verifier reported no result'}"
            )
    return list(by_description.values())


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """The verifier's core prints its unredacted output on file descriptor 1; paycert shows it redacted."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _mismatch_text(error: dict[str, Any]) -> str:
    mismatch = error.get("mismatch", error)
    items = mismatch.get("mismatches") if isinstance(mismatch, dict) else None
    if items:
        return "; ".join(f"{m.get('path', '')} {m.get('mismatch', m)}".strip() for m in items)[:1000]
    return json.dumps(mismatch)[:1000]


def _summary(output: str) -> str:
    """The verifier's output without the response bodies it prints under a failure (they can hold a fresh
    token no redactor knows yet): the per-interaction lines, then each numbered mismatch."""
    head, _, failures = output.partition("\nFailures:")
    kept = [
        line
        for line in failures.splitlines()
        if re.match(r"^\s*\d+(\.\d+)?\) ", line) or " -> " in line or "pact failures" in line
    ]
    return head.rstrip() + ("\n\nFailures:\n" + "\n".join(kept) if kept else "")


def _excerpt(output: str, description: str) -> str:
    index = output.find(description)
    return output[index : index + 600].strip() if index >= 0 else ""
