"""What a merchant needs from a gateway, read from the gateway's profile.

A need is one HTTP interaction the reference merchant relies on: get a token, create a payment, read a
completed payment back, refund it where the gateway offers refunds. `request_for` turns a need into the
concrete request (path, query, headers, body) from the profile's templates, the same way the generic client
does; the consumer side fills it with example values, the verifier's state relay with the target's real ones.
Fields whose value is a secret, a card, a token or an id only the provider knows are *injected*: the pact
holds an example and a provider-state expression, and the verifier asks the relay for the real value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from paycert.gateways.client import GatewayClient
from paycert.gateways.hooks_loader import load_hook
from paycert.targets.profile import Profile
from paycert.targets.templates import fill, placeholders

CREDENTIALS_STATE = "the merchant's credentials are valid"
COMPLETED_STATE = "a completed payment exists"
# States only the gateway can make true (through its state endpoint); the others the relay makes true alone.
GATEWAY_STATES = frozenset({COMPLETED_STATE})

AMOUNT = "10.00"
CURRENCY = "EUR"
AUTH = "auth"
_FIXED_PLACEHOLDERS = frozenset({"token", "payment_id", "parent_id", "reference", "registration"})


@dataclass(frozen=True)
class Need:
    """One interaction: `operation` is a canonical operation of the profile (or `auth`, the token request)."""

    operation: str
    description: str
    state: str
    reads: tuple[str, ...]  # result names the merchant reads from the answer
    # Which vendor statuses the merchant accepts at the `status` pointer: "any" known one, only those the
    # profile maps to COMPLETED, or "" for any string (a refund's own status is not a payment status).
    statuses: str = ""

    @property
    def params(self) -> dict[str, object]:
        return {"operation": self.operation, "amount": AMOUNT, "currency": CURRENCY}


MERCHANT_NEEDS: tuple[Need, ...] = (
    Need(AUTH, "a token request with the merchant's credentials", CREDENTIALS_STATE, ("token", "expires_in")),
    Need(
        "create_payment",
        "a payment request for 10.00 EUR",
        CREDENTIALS_STATE,
        ("payment_id", "redirect_url", "status"),
        statuses="any",
    ),
    Need(
        "get_payment",
        "a status request for a completed payment",
        COMPLETED_STATE,
        ("payment_id", "status"),
        statuses="completed",
    ),
    Need("refund", "a full refund of a completed payment", COMPLETED_STATE, ("payment_id", "status")),
)


def needs_of(profile: Profile) -> list[Need]:
    """The merchant's needs this gateway can meet (a refund only where the profile offers one)."""
    return [
        n
        for n in MERCHANT_NEEDS
        if ("operation" in profile.auth if n.operation == AUTH else profile.offers(n.operation))
    ]


def declared(profile: Profile, operation: str) -> Mapping[str, Any]:
    """The profile's declaration of `operation` (for `auth`, its token request)."""
    found: Mapping[str, Any] = (
        profile.auth["operation"] if operation == AUTH else profile.operations[operation]
    )
    return found


def reads_of(profile: Profile, need: Need) -> dict[str, str]:
    """Result name -> JSON pointer, for what the merchant reads and the profile locates."""
    if need.operation == AUTH:
        auth = profile.auth
        pointers = {"token": auth.get("token", "/access_token"), "expires_in": auth.get("expires_in")}
    else:
        pointers = dict(declared(profile, need.operation).get("result", {}))
    shopper = profile.shopper
    # A redirect is needed only where the shopper pays on a hosted page entered by the create answer's URL.
    if shopper.get("kind") != "hosted-page" or shopper.get("entry") != "redirect_url":
        pointers.pop("redirect_url", None)
    return {name: str(pointers[name]) for name in need.reads if pointers.get(name)}


def is_injected(name: str, credential_names: frozenset[str]) -> bool:
    """A placeholder the provider must supply at verification: secrets, cards, tokens, its own ids."""
    root = name.split(".", maxsplit=1)[0]
    return name in credential_names or root == "card" or root in _FIXED_PLACEHOLDERS


def expression(operation: str, part: str, key: str = "") -> str:
    """The provider-state key of one request field (letters, digits and `_` only)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", "__".join(p for p in (operation, part, key) if p))


@dataclass
class Request:
    """A concrete request of one need, and which of its fields are injected."""

    method: str
    path: str
    content_type: str | None
    body: Any
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    injected_body: set[str] = field(default_factory=set)
    injected_query: set[str] = field(default_factory=set)
    injected_headers: set[str] = field(default_factory=set)
    path_injected: bool = False

    def provider_values(self, operation: str) -> dict[str, Any]:
        """What the relay answers for this request: each injected field under its expression key."""
        values: dict[str, Any] = {}
        if self.path_injected:
            values[expression(operation, "path")] = self.path
        for key in self.injected_body:
            values[expression(operation, "body", key)] = self.body[key]
        for key in self.injected_query:
            values[expression(operation, "query", key)] = self.query[key]
        for name in self.injected_headers:
            values[expression(operation, "header", name)] = self.headers[name]
        return values


def request_for(
    profile: Profile, need: Need, context: Mapping[str, Any], credentials: Mapping[str, str]
) -> Request:
    """The request the generic client sends for `need`, filled from `context` (see GatewayClient._invoke)."""
    names = frozenset(profile.credentials)
    spec_op = profile.spec.operation(declared(profile, need.operation)["operation_id"])
    op = declared(profile, need.operation)
    path = spec_op.path
    path_params = dict(op.get("path_params", {}))
    for name in re.findall(r"\{(\w+)\}", path):
        path_params.setdefault(name, "{payment_id}")
    path_injected = any(is_injected(p, names) for p in placeholders(path_params))
    for key, value in fill(path_params, context).items():
        path = path.replace("{" + key + "}", str(value))
    hook = load_hook(profile.raw["hooks"][op["hook"]]) if op.get("hook") else None
    body_template = op.get("body")
    body = fill(body_template, context) if body_template is not None else None
    injected_body: set[str] = set()
    if isinstance(body_template, Mapping) and isinstance(body, dict):
        injected_body = {
            k for k, v in body_template.items() if any(is_injected(p, names) for p in placeholders(v))
        }
        if hook is not None:
            signed = hook(need.operation, body, credentials)
            injected_body |= {k for k in signed if k not in body or signed[k] != body[k]}
            body = signed
    query_template = dict(op.get("query", {}))
    query = dict(fill(query_template, context))
    injected_query = {
        k for k, v in query_template.items() if any(is_injected(p, names) for p in placeholders(v))
    }
    if query and hook is not None:
        signed_query = hook(need.operation, query, credentials)
        injected_query |= {k for k in signed_query if k not in query or signed_query[k] != query[k]}
        query = signed_query
    headers = {str(k): str(v) for k, v in fill(op.get("headers", {}), context).items()}
    injected_headers: set[str] = set()
    if need.operation != AUTH and op.get("authenticated", True):
        apply = profile.auth.get("apply")
        if apply and "token" in context:
            headers[apply["header"]] = str(fill(apply["value"], context))
            injected_headers.add(apply["header"])
    return Request(
        method=spec_op.method.upper(),
        path=path,
        content_type=op.get("content_type"),
        body=body,
        query=query,
        headers=headers,
        injected_body=injected_body,
        injected_query=injected_query,
        injected_headers=injected_headers,
        path_injected=path_injected,
    )


def success_status(profile: Profile, need: Need) -> int:
    """The first 2xx answer the spec documents for the need's operation."""
    spec_op = profile.spec.operation(declared(profile, need.operation)["operation_id"])
    codes = sorted(
        int(k) for k in spec_op.raw.get("responses", {}) if str(k).isdigit() and str(k).startswith("2")
    )
    return codes[0] if codes else 200


def statuses_for(profile: Profile, need: Need) -> list[str]:
    """Vendor statuses the merchant accepts at the status pointer (all, or those meaning COMPLETED)."""
    statuses = profile.raw.get("statuses", {})
    if need.statuses == "completed":
        return [str(k) for k, v in statuses.items() if v == "COMPLETED"]
    return [str(k) for k in statuses] if need.statuses == "any" else []


def context_for(
    client: GatewayClient,
    *,
    token: str | None,
    card: Mapping[str, Any] | None,
    reference: str,
    payment_id: str,
    return_url: str = "https://merchant.example/return",
    notification_url: str = "http://127.0.0.1:9/merchant/notifications",
) -> dict[str, Any]:
    """Everything the profile's templates may name, as the generic client would fill it."""
    context = client.base_context()
    context.update(
        client.new_context(
            AMOUNT,
            currency=CURRENCY,
            card=card,
            return_url=return_url,
            notification_url=notification_url,
            reference=reference,
        )
    )
    if token is not None:
        context["token"] = token
    context["payment_id"] = payment_id
    context["parent_id"] = payment_id
    return context
