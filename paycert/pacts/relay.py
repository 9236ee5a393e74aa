"""The state relay: the provider-state URL the pact verifier calls before each interaction.

A real HTTP server on 127.0.0.1. For a state paycert can make true alone (valid credentials) it answers the
values the interaction's expressions name: the target's credentials, a fresh token, the paying test card, the
request checksum. For a state only the gateway can make true (a completed payment exists) it first asks the
gateway's provider-state endpoint (`{control_url}/pact/{gateway}/state`, which the paycert sandbox offers), or,
where there is none, brings it about through the gateway's own API and shopper (`BringAbout`), and fills the
request with the payment id it answers. Values go only to the verifier, never to a file or a log.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from paycert.core.errors import PaycertError
from paycert.gateways.client import GatewayClient
from paycert.pacts.needs import GATEWAY_STATES, context_for, needs_of, request_for
from paycert.redaction import Redactor
from paycert.webhooks.serving import ServerThread

MESSAGE_PATH = "/pact/message"

# Makes a gateway state true through the gateway itself (pays a payment for "a completed payment exists")
# and answers the values the interaction needs, e.g. {"payment_id": ...}.
BringAbout = Callable[[str], dict[str, Any]]


class StateRelay:
    """Serves the verifier's state changes for one gateway; use as a context manager."""

    def __init__(
        self, client: GatewayClient, redactor: Redactor, bring_about: BringAbout | None = None
    ) -> None:
        self.client = client
        self.redactor = redactor
        self.bring_about = bring_about
        self.errors: list[str] = []
        # Message interactions: the bodies the gateway really sent, by the pact's description.
        self.messages: dict[str, bytes] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = ServerThread(self._server, "pact-state-relay")

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/pact/state"

    def __enter__(self) -> StateRelay:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._thread.stop()  # at once: serve_forever's shutdown() waited up to 0.5 s for its next poll

    def change(self, state: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Make `state` true (setup) or forget it (teardown); answer the values for the interaction."""
        target = self.client.target
        gateway_values: dict[str, Any] = {}
        if state in GATEWAY_STATES:
            if target.control_url:
                gateway_values = self._ask_gateway(state, action, params)
            elif self.bring_about is not None:
                # No provider-state endpoint (a real gateway): the state is made true the way a merchant
                # would, through the gateway's own API and hosted page; a teardown leaves the payment be.
                gateway_values = self.bring_about(state) if action == "setup" else {}
            else:
                raise PaycertError(f"{target.id} offers no provider-state endpoint for {state!r}")
        operation = str(params.get("operation", ""))
        if action != "setup" or not operation:
            return {}  # a teardown, or the verifier's generic setup (state "") before any interaction
        need = next((n for n in needs_of(self.client.profile) if n.operation == operation), None)
        if need is None:
            raise PaycertError(
                f"{target.id}: the pact asks for {operation!r}, which the profile does not declare"
            )
        found = self.client.profile.card_with_outcome("COMPLETED")
        context = context_for(
            self.client,
            token=self.client.token() if self.client.profile.auth["kind"] != "none" else None,
            card=found[1] if found else None,
            reference=f"PACT{uuid.uuid4().hex[:12].upper()}",
            payment_id=str(gateway_values.get("payment_id", "PAY-UNKNOWN")),
        )
        request = request_for(self.client.profile, need, context, target.credentials)
        return request.provider_values(operation)

    def _ask_gateway(self, state: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
        target = self.client.target
        url = f"{str(target.control_url).rstrip('/')}/pact/{target.id}/state"
        verify: str | bool = str(target.ca_file) if target.ca_file else True
        answer = httpx.post(
            url,
            json={"state": state, "action": action, "params": params},
            timeout=target.timeout_seconds,
            verify=verify,
        )
        if answer.status_code >= 300:
            raise PaycertError(
                f"{url} answered HTTP {answer.status_code} to {action} {state!r}: {answer.text[:200]}"
            )
        body = answer.json() if answer.content else {}
        return body if isinstance(body, dict) else {}


def _handler_for(relay: StateRelay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:  # the values are secrets: nothing is logged
            return

        def do_POST(self) -> None:
            if self.path.rstrip("/").endswith(MESSAGE_PATH):
                self._message()
                return
            try:
                raw = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                answer = relay.change(
                    str(raw.get("state", "")), str(raw.get("action", "setup")), raw.get("params") or {}
                )
                status, body = 200, json.dumps(answer).encode()
            except (PaycertError, httpx.HTTPError, ValueError, KeyError) as exc:
                # Answered 200 with no values: the verifier retries a failed state change for minutes, while
                # the interaction, sent with its example values, fails at once; the reason is kept for it.
                relay.errors.append(relay.redactor.text(f"state change failed: {exc}"))
                status, body = 200, b"{}"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _message(self) -> None:
            """The verifier asks for a message by description; answer what the gateway really sent."""
            raw = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            body = relay.messages.get(str(raw.get("description", "")))
            status = 200 if body is not None else 404
            payload = body if body is not None else b'{"error": "no such message was captured"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler
