"""The consumer side: a V4 pact "merchant" <-> gateway stating what the merchant needs, as shapes.

Requests carry the profile's literal fields as they are and every templated field as a type matcher; fields
only the provider can know (credentials, cards, tokens, its payment ids, request checksums) are provider-state
expressions, filled at verification by paycert's state relay. Responses state only what the merchant reads
(the profile's result pointers), with the statuses it accepts as a regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pact import Pact, generate, match
from pact.match.matcher import AbstractMatcher, GenericMatcher

from paycert.core.pointers import MISSING, resolve
from paycert.gateways.client import GatewayClient
from paycert.gateways.http import Recorder
from paycert.pacts.needs import (
    AUTH,
    Need,
    Request,
    context_for,
    declared,
    expression,
    needs_of,
    reads_of,
    request_for,
    statuses_for,
    success_status,
)
from paycert.redaction import MASK, Redactor
from paycert.targets.profile import Profile
from paycert.targets.target import GatewayTarget
from paycert.targets.templates import placeholders
from paycert.webhooks.fields import HEADER_PREFIX

CONSUMER = "merchant"
# Credentials and tokens are stated as the redaction mask: a pact file is an artifact of the run and holds
# no credential, not even a made-up one a scanner could mistake for a real one.
EXAMPLE_TOKEN = MASK
EXAMPLE_PAYMENT_ID = "PAY-EXAMPLE-1"
_DEFAULTS: dict[str, Any] = {
    "token": EXAMPLE_TOKEN,
    "expires_in": 3600,
    "payment_id": EXAMPLE_PAYMENT_ID,
    "redirect_url": "https://gateway.example/pay/PAY-EXAMPLE-1",
}


def example_credentials(profile: Profile) -> dict[str, str]:
    """Stand-ins for the credentials: a pact file never holds a real one."""
    return dict.fromkeys(profile.credentials, MASK)


def example_card(profile: Profile) -> dict[str, Any]:
    """The profile's paying card with its number and CVV masked: the pact holds no card."""
    found = profile.card_with_outcome("COMPLETED")
    card = dict(found[1]) if found else {}
    number = str(card.get("number", "4111111111111111"))
    card["number"] = number[:6] + "*" * (len(number) - 10) + number[-4:]
    card["cvv"] = MASK
    return card


def example_client(profile: Profile, base_url: str) -> GatewayClient:
    """The generic client, with example credentials, for a mock server (or just for its templates)."""
    target = GatewayTarget(
        id=profile.id, profile=profile, base_url=base_url, credentials=example_credentials(profile)
    )
    return GatewayClient(target, Recorder(Redactor()))


def example_context(profile: Profile) -> dict[str, Any]:
    client = example_client(profile, "http://127.0.0.1:9")
    return context_for(
        client,
        token=EXAMPLE_TOKEN,
        card=example_card(profile),
        reference="PACTEXAMPLE1",
        payment_id=EXAMPLE_PAYMENT_ID,
    )


def merchant_pact(profile: Profile) -> Pact:
    """The pact the reference merchant states for this gateway (HTTP interactions)."""
    pact = Pact(CONSUMER, profile.id).with_specification("V4")
    context = example_context(profile)
    for need in needs_of(profile):
        add_need(pact, profile, need, request_for(profile, need, context, example_credentials(profile)))
    return pact


WEBHOOK_NEED = "a webhook announcing a completed payment"
_WEBHOOK_READS = ("event_id", "event_type", "payment_id", "status", "amount")


def webhook_pact(profile: Profile) -> Pact:
    """The message the merchant consumes: the webhook that announces a completed payment, as a shape."""
    pact = Pact(CONSUMER, profile.id).with_specification("V4")
    pact.upon_receiving(WEBHOOK_NEED, "Async").with_body(
        webhook_shape(profile), content_type="application/json"
    )
    return pact


def webhook_shape(profile: Profile) -> dict[str, Any]:
    """What the merchant reads from the completion webhook (the profile's webhook pointers)."""
    hooks = profile.webhooks
    events = [str(e) for e, state in hooks.get("events", {}).items() if state == "COMPLETED"]
    statuses = [str(k) for k, v in profile.raw.get("statuses", {}).items() if v == "COMPLETED"]
    schema = profile.json_schema("webhook") or {}
    examples = schema.get("examples", [])
    event_pointer = hooks.get("event_type")
    example = next(
        (e for e in examples if event_pointer and resolve(e, event_pointer, None) in events),
        examples[0] if examples else {},
    )
    body: dict[str, Any] = {}
    for name in _WEBHOOK_READS:
        pointer = hooks.get(name)
        if not pointer or str(pointer).startswith(HEADER_PREFIX):
            continue  # a header field (Standard Webhooks' webhook-id) is no part of the message body
        found = resolve(example, pointer, None)
        if found is None:
            found = typed_example(schema, str(pointer))
        allowed = events if name == "event_type" else statuses if name == "status" else []
        if allowed:
            value = found if found in allowed else allowed[0]
            matcher: Any = match.regex(str(value), regex="^(?:" + "|".join(map(re.escape, allowed)) + ")$")
        else:
            matcher = GenericMatcher("type", value=found if found is not None else _DEFAULTS.get(name, "x"))
        _place(body, str(pointer), matcher)
    return body


_TYPE_EXAMPLES: dict[str, Any] = {"string": "x", "integer": 1, "number": 1.5, "boolean": True}


def typed_example(schema: Mapping[str, Any], pointer: str) -> Any:
    """A value of the type the JSON Schema gives the field at `pointer` (None when it says none).

    A pact matcher takes its type from its example value: without an example in the schema, a field the
    schema types as an integer must not be matched as a string.
    """
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/")]
    return _typed_at(schema, schema, parts)


def _typed_at(root: Mapping[str, Any], node: Any, parts: list[str]) -> Any:
    node = _follow_ref(root, node)
    if not isinstance(node, Mapping):
        return None
    # The first branch of an allOf / oneOf / anyOf (event shapes of one webhook) that has the field.
    for keyword in ("allOf", "oneOf", "anyOf"):
        for branch in node.get(keyword) or ():
            found = _typed_at(root, branch, parts)
            if found is not None:
                return found
    if parts:
        properties = node.get("properties")
        if not isinstance(properties, Mapping) or parts[0] not in properties:
            return None
        return _typed_at(root, properties[parts[0]], parts[1:])
    if node.get("enum"):
        return node["enum"][0]
    kind = node.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    return _TYPE_EXAMPLES.get(str(kind))


def _follow_ref(root: Mapping[str, Any], node: Any) -> Any:
    for _ in range(16):  # a cycle of $refs ends here, unresolved
        if not isinstance(node, Mapping) or not str(node.get("$ref", "")).startswith("#"):
            return node
        node = resolve(root, str(node["$ref"])[1:], None)
    return node


def add_need(pact: Pact, profile: Profile, need: Need, request: Request) -> None:
    op = need.operation
    interaction = pact.upon_receiving(need.description).given(need.state, need.params)
    path: str | AbstractMatcher[Any] = (
        _injected(request.path, expression(op, "path")) if request.path_injected else request.path
    )
    interaction.with_request(request.method, path)
    for name, value in request.headers.items():
        interaction.with_header(
            name,
            _injected(value, expression(op, "header", name)) if name in request.injected_headers else value,
        )
    for key, value in request.query.items():
        interaction.with_query_parameter(
            key, _injected(value, expression(op, "query", key)) if key in request.injected_query else value
        )
    if request.body is not None:
        template = declared(profile, op).get("body")
        shaped = _shape(template, request.body)
        if isinstance(shaped, dict):
            for key in request.injected_body:
                shaped[key] = _injected(request.body[key], expression(op, "body", key))
        interaction.with_body(shaped, content_type=request.content_type or "application/json")
    interaction.will_respond_with(success_status(profile, need))
    interaction.with_body(_response_shape(profile, need), content_type="application/json")


def _injected(example: Any, key: str) -> GenericMatcher[Any]:
    return GenericMatcher("type", value=example, generator=generate.provider_state("${" + key + "}"))


def _shape(template: Any, value: Any) -> Any:
    """Literal where the profile's template is literal, a type matcher where it is filled from the run."""
    if isinstance(template, str):
        return GenericMatcher("type", value=value) if placeholders(template) else value
    if isinstance(template, Mapping) and isinstance(value, dict):
        return {k: _shape(template.get(k), v) for k, v in value.items()}
    if isinstance(template, list) and isinstance(value, list):
        return [_shape(t, v) for t, v in zip(template, value, strict=False)]
    return value


def _response_shape(profile: Profile, need: Need) -> dict[str, Any]:
    example = _spec_example(profile, need)
    body: dict[str, Any] = {}
    for name, pointer in reads_of(profile, need).items():
        found = resolve(example, pointer) if example is not None else MISSING
        value: Any = found if found is not MISSING and found is not None else _DEFAULTS.get(name, "example")
        if name == "token":
            value = EXAMPLE_TOKEN  # never the spec's example token
        allowed = statuses_for(profile, need) if name == "status" else []
        if allowed:
            value = value if str(value) in allowed else allowed[0]
            matcher: Any = match.regex(str(value), regex="^(?:" + "|".join(map(re.escape, allowed)) + ")$")
        else:
            matcher = GenericMatcher("type", value=value)
        _place(body, pointer, matcher)
    return body


def _place(body: dict[str, Any], pointer: str, value: Any) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/")]
    current = body
    for part in parts[:-1]:
        current = current.setdefault(part, {})
    current[parts[-1]] = value


def _spec_example(profile: Profile, need: Need) -> Any:
    """The spec's first example of the need's success answer, for realistic example values."""
    op = profile.spec.operation(declared(profile, need.operation)["operation_id"])
    response = op.raw.get("responses", {}).get(str(success_status(profile, need)), {})
    media = (response.get("content") or {}).get("application/json", {})
    if "example" in media:
        return media["example"]
    examples = media.get("examples") or {}
    for item in examples.values():
        if isinstance(item, Mapping) and "value" in item:
            return item["value"]
    return None


__all__ = [
    "AUTH",
    "CONSUMER",
    "WEBHOOK_NEED",
    "example_client",
    "example_context",
    "merchant_pact",
    "webhook_pact",
    "webhook_shape",
]
