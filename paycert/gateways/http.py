"""The one seam for gateway I/O: every request goes through here.

It sends within one deadline for the whole request (the target's `timeout_seconds`, retries of transport
errors included, and never past the run's own deadline), turns errors into one-line reasons, reads the body
(refused over a cap), validates it against the spec, and records a redacted copy of the exchange (with a
curl line to reproduce it) into the evidence log of the test that is running.
"""

from __future__ import annotations

import email.utils
import json
import math
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlencode

import httpx

from paycert.core.errors import GatewayUnreachableError, PaycertError
from paycert.core.evidence import EvidenceLog, Exchange, Note
from paycert.core.tls import verifier
from paycert.gateways.bodies import parse
from paycert.gateways.curl import curl_line
from paycert.gateways.pan_watch import PanWatch
from paycert.gateways.write_guard import WriteGuard
from paycert.redaction import Redactor
from paycert.targets.bounds import BodyTooLarge, Deadline, OutOfTime, bounded_client, within
from paycert.targets.spec import ApiSpec, SchemaViolation

TRANSPORT_RETRIES = 3
BACKOFF_SECONDS = (0.2, 0.6)
# A 429 with Retry-After is waited out and the request sent again (002 §2.3: a client honours the limit),
# at most this often and never for longer than this per wait: a longer wait is the gateway's answer.
RATE_LIMIT_RETRIES = 2
MAX_RETRY_AFTER_SECONDS = 10.0

# How a Retry-After passes: given the seconds, it lets them pass and says how, for the evidence. A real
# gateway is really waited for; a sandbox with a test clock has its clock moved on (gateways/client.py).
Waiter = Callable[[float], str]


def real_wait(seconds: float) -> str:
    """Really wait: a real gateway's limiter goes by real time."""
    time.sleep(seconds)
    return "waited"


class GatewayAnswerError(PaycertError):
    """The gateway answered, but not in a way paycert can read (a body over the cap)."""


@dataclass
class Recorder:
    """Where exchanges go: the plugin points `log` at the running test's evidence."""

    redactor: Redactor
    log: EvidenceLog = field(default_factory=EvidenceLog)
    violations: list[SchemaViolation] = field(default_factory=list)
    pans: PanWatch = field(default_factory=PanWatch)  # the whole run's, never reset by `begin`
    # Told what the run now waits for ("" when the wait is over); the console's progress display sets it.
    on_wait: Callable[[str], None] = field(default=lambda what: None, repr=False)

    def begin(self) -> EvidenceLog:
        self.log = EvidenceLog()
        self.violations = []
        return self.log

    def note(self, text: str, label: str = "") -> None:
        self.log.add(Note(self.redactor.text(text), label))

    @contextmanager
    def waiting(self, what: str) -> Iterator[None]:
        """Say what a long wait waits for (a webhook, a settle window, an engine's budget) while it lasts:
        the console shows it beside the running test, so a quiet run always says why it is quiet."""
        self.on_wait(self.redactor.text(what))
        try:
            yield
        finally:
            self.on_wait("")


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: httpx.Headers
    body: Any
    text: str
    url: str
    violations: list[SchemaViolation]
    elapsed_ms: float


def describe_transport_error(exc: httpx.TransportError, url: str, seconds: float | None = None) -> str:
    """One line for the person running paycert: what happened on the wire, in their terms."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate of {url} is not trusted ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake with {url} failed ({cause.reason or cause})"
        if isinstance(cause, ConnectionRefusedError):
            return f"cannot connect to {url} (connection refused)"
        if isinstance(cause, ConnectionResetError):
            return f"{url} reset the connection"
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve the host of {url} ({cause.strerror})"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.TimeoutException):
        within_text = f"within {seconds:g} s" if seconds is not None else "in time"
        return f"{url} did not answer {within_text} ({type(exc).__name__})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{url} did not answer in HTTP ({_one_line(str(exc))[:200]})"
    return f"cannot reach {url} ({type(exc).__name__}: {_one_line(str(exc))[:200]})"


def probe(base_url: str, *, seconds: float, ca_file: Path | None = None) -> str | None:
    """Why `base_url` cannot be reached, or None when it answers at all (any status; the body is not read)."""
    try:
        with (
            bounded_client(verify=_verify(ca_file)) as client,
            within(seconds),
            client.stream("GET", base_url + "/"),
        ):
            return None
    except BodyTooLarge:
        return None  # it answered: the size of a body nobody asked for is not a reason to stop
    except httpx.TransportError as exc:
        return describe_transport_error(exc, base_url, seconds)


def _verify(ca_file: Path | None) -> ssl.SSLContext | bool:
    return verifier(ca_file)


def _one_line(text: str) -> str:
    return " ".join(text.split())


class GatewayHttp:
    """An httpx client bound to one gateway's base URL, recording everything it does."""

    def __init__(
        self,
        base_url: str,
        recorder: Recorder,
        *,
        spec: ApiSpec | None = None,
        timeout: float = 10.0,
        ca_file: Path | None = None,
        run_deadline: Deadline | None = None,
        guard: WriteGuard | None = None,
        wait: Waiter = real_wait,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # No guard: a server that is not a gateway's live API (paycert's own tests, a sandbox merchant).
        self.guard = guard
        self.recorder = recorder
        self.spec = spec
        self.timeout = timeout
        self.run_deadline = run_deadline
        self.ca_file = ca_file
        self.wait = wait
        self._client = bounded_client(verify=_verify(ca_file))

    def close(self) -> None:
        self._client.close()

    def observe(
        self, *, request: Callable[[httpx.Request], None], response: Callable[[httpx.Response], None]
    ) -> None:
        """Call `request` before each request leaves (it may raise to keep it from leaving) and `response`
        as each answer's headers arrive: the KPI load phase budgets and times every request here."""
        self._client.event_hooks["request"].append(request)
        self._client.event_hooks["response"].append(response)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    def send(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        form_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        operation_id: str | None = None,
        label: str = "",
    ) -> HttpAnswer:
        url = self.url(path)
        if self.guard is not None:
            json_body, form_body = self._capped(json_body, form_body)
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode({k: str(v) for k, v in params.items()})}"
        sent_headers = dict(headers or {})
        content: bytes | None = None
        if json_body is not None:
            content = json.dumps(json_body).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        elif form_body is not None:
            content = urlencode({k: _form_value(v) for k, v in form_body.items()}).encode()
            sent_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if self.guard is not None:
            try:
                self.guard.check(method, url.split("?", maxsplit=1)[0], operation_id)
            except PaycertError as refused:
                self._fail(method, url, sent_headers, content, label, refused)
        started = time.perf_counter()
        response = self._send_with_retries(method, url, sent_headers, content, label)
        for _ in range(RATE_LIMIT_RETRIES):
            wait = self._rate_limited_wait(response)
            if wait is None:
                break
            self._record(method, url, sent_headers, content, label, response=response)
            how = self.wait(wait)
            self.recorder.note(
                f"HTTP 429 with Retry-After {wait:g} s: {how} and sent {method} again", "rate limit honoured"
            )
            started = time.perf_counter()
            response = self._send_with_retries(method, url, sent_headers, content, label)
        elapsed = (time.perf_counter() - started) * 1000
        body = parse(response)
        violations: list[SchemaViolation] = []
        if self.spec is not None and operation_id is not None:
            violations = self.spec.validate_response(
                operation_id, response.status_code, response.headers.get("content-type", ""), body
            )
            self.recorder.violations.extend(violations)
        self._record(
            method,
            url,
            sent_headers,
            content,
            label,
            response=response,
            elapsed_ms=elapsed,
            violations=violations,
        )
        return HttpAnswer(
            response.status_code, response.headers, body, response.text, url, violations, elapsed
        )

    def _rate_limited_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait before sending again, for a 429 whose Retry-After is within the bounds; else None."""
        if response.status_code != 429:
            return None
        seconds = retry_after_seconds(response.headers.get("retry-after"))
        run_left = self.run_deadline.remaining() if self.run_deadline is not None else math.inf
        if seconds is None or seconds > MAX_RETRY_AFTER_SECONDS or seconds >= run_left:
            return None
        return seconds

    def _capped(
        self, json_body: Any, form_body: Mapping[str, Any] | None
    ) -> tuple[Any, Mapping[str, Any] | None]:
        """The bodies with every amount within the live cap; a change is noted (the client caps first)."""
        assert self.guard is not None
        json_body, in_json = self.guard.cap_body(json_body)
        capped_form, in_form = self.guard.cap_body(form_body)
        for where in in_json + in_form:
            self.recorder.note(f"amount at {where} capped at {self.guard.max_amount} (live)", "live cap")
        return json_body, capped_form

    def _send_with_retries(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, label: str
    ) -> httpx.Response:
        """The answer, within one deadline for everything (retries too); else a one-line error, recorded."""
        where = url.split("?", maxsplit=1)[0]
        run_left = self.run_deadline.remaining() if self.run_deadline is not None else math.inf
        if self.run_deadline is not None and run_left <= 0:
            reason = f"{self.run_deadline.what} ran out before {method} {where}"
            self._fail(method, url, headers, content, label, OutOfTime(reason))
        seconds = min(self.timeout, run_left)
        last: httpx.TransportError | None = None
        with within(seconds):
            for attempt in range(TRANSPORT_RETRIES):
                try:
                    return self._client.request(method, url, headers=headers, content=content)
                except BodyTooLarge as exc:
                    self._fail(method, url, headers, content, label, GatewayAnswerError(f"{method} {exc}"))
                except httpx.TimeoutException as exc:
                    last = exc
                    break  # the request's time is spent: a retry would have none
                except httpx.TransportError as exc:  # only transport errors are retried, never HTTP answers
                    last = exc
                    if attempt < len(BACKOFF_SECONDS):
                        time.sleep(BACKOFF_SECONDS[attempt])
        assert last is not None
        if self.run_deadline is not None and self.run_deadline.passed:
            reason = f"{self.run_deadline.what} ran out during {method} {where}"
            self._fail(method, url, headers, content, label, OutOfTime(reason))
        reason = describe_transport_error(last, where, seconds)
        self._record(method, url, headers, content, label, error=reason)
        raise GatewayUnreachableError(self.recorder.redactor.text(reason))

    def _fail(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        label: str,
        error: PaycertError,
    ) -> NoReturn:
        """Record the request with the error in place of an answer, and stop the test on it (redacted)."""
        reason = str(error)
        self._record(method, url, headers, content, label, error=reason)
        raise type(error)(self.recorder.redactor.text(reason)) from None

    def _record(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        label: str,
        *,
        response: httpx.Response | None = None,
        elapsed_ms: float = 0.0,
        error: str | None = None,
        violations: list[SchemaViolation] | None = None,
    ) -> None:
        """One redacted exchange (or the transport error in place of its response) into the test's evidence."""
        r = self.recorder.redactor
        request_body = r.text(content.decode("utf-8", "replace")) if content else None
        safe_headers = r.headers(headers)
        safe_url = r.url(url)
        if response is not None:
            where = f"{method} {safe_url.split('?', maxsplit=1)[0]}"
            for sighting in self.recorder.pans.look(response.text, url=safe_url, label=label or where):
                self.recorder.note(f"a full card number in a response: {sighting.describe()}", "finding: PAN")
        self.recorder.log.add(
            Exchange(
                method=method,
                url=safe_url,
                request_headers=safe_headers,
                request_body=request_body,
                status=response.status_code if response is not None else None,
                response_headers=r.headers(dict(response.headers)) if response is not None else {},
                response_body=r.text(response.text[:20000]) if response is not None else None,
                duration_ms=round(elapsed_ms, 2),
                # From the parts as sent: secrets with a variable become `"$VAR"`, so the line runs as pasted.
                curl=curl_line(
                    method,
                    url,
                    headers,
                    content.decode("utf-8", "replace") if content else None,
                    r,
                    ca_file=self.ca_file,
                ),
                error=r.text(error) if error else None,
                label=label,
            )
        )
        for violation in violations or []:
            self.recorder.note(f"response does not match the spec: {violation}", "finding: schema")


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (RFC 9110 §10.2.3: delay-seconds, or an HTTP date); None if unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
