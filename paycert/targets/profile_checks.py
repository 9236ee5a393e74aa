"""What `paycert validate` checks in a profile beyond its JSON Schema: that what it names exists.

Every operationId must be in the spec; every pointer must resolve in the body it reads (an operation's
success response, or the webhook schema); every status value the spec allows where a status is read must
be mapped; every `{placeholder}` must be a run value or a declared credential; hooks, files and webhook
events must exist. Each is an error because a run would otherwise stop at it, or worse, read nothing and
report the gateway's fault instead of the profile's.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from paycert.targets.problems import Sink
from paycert.targets.schema_walk import SchemaWalker, Walk, enum_values
from paycert.targets.spec import HTTP_METHODS
from paycert.targets.spec_file import SpecFile
from paycert.targets.templates import placeholders

if TYPE_CHECKING:
    from paycert.targets.validate import Validator

# What a run puts in an operation's template context beside the credentials (client.py, checkout.py).
RUN_VALUES = frozenset(
    {
        "amount",
        "amount_decimal",
        "amount_minor",
        "currency",
        "reference",
        "return_url",
        "notification_url",
        "payment_id",
        "parent_id",
        "token",
        "base_url",
        "card",
        "registration",
        "created",
        "webhook_id",  # delete_webhook: the registration a live run made (client.py, undo)
    }
)
_TEMPLATE_FIELDS = ("body", "path_params", "query", "headers")
_POINTER_DEF = "#/$defs/pointer"  # how specs/profile.schema.json marks a pointer field
_HEADER = "header:"  # a webhook field read from a delivery header: there is no body schema to check
_MAX_LISTED = 12


def check_profile(validator: Validator, sink: Sink, raw: dict[str, Any], schema: dict[str, Any]) -> None:
    checks = _ProfileChecks(validator, sink, raw, schema)
    checks.keys()
    checks.credentials()
    checks.operations()
    checks.pointers()
    checks.events()
    checks.refunds()
    checks.templates()
    checks.hooks()
    checks.files()
    checks.shopper()
    checks.cards()


def _dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _listed(names: Sequence[Any]) -> str:
    shown = sorted(str(n) for n in names)
    more = f", ... ({len(shown) - _MAX_LISTED} more)" if len(shown) > _MAX_LISTED else ""
    return ", ".join(shown[:_MAX_LISTED]) + more


class _ProfileChecks:
    def __init__(self, validator: Validator, sink: Sink, raw: dict[str, Any], schema: dict[str, Any]) -> None:
        self.validator = validator
        self.sink = sink
        self.raw = raw
        self.schema = schema
        self.directory = sink.path.parent
        listed = raw.get("credentials")
        self.credential_names = [str(c) for c in listed] if isinstance(listed, list) else []

    # -- what the profile leads to ------------------------------------------------------------------------

    @cached_property
    def spec(self) -> SpecFile | None:
        ref = self.raw.get("spec")
        if not isinstance(ref, str):
            return None
        if ref.startswith(("http://", "https://")):
            self.sink.at(["spec"], "a spec given by URL is not checked (validate is offline)", warning=True)
            return None
        path = self.directory / ref
        if not path.is_file():
            self.sink.at(["spec"], f"spec {ref} does not exist (relative to the profile)")
            return None
        return self.validator.spec_file(path)

    @property
    def spec_name(self) -> str:
        return str(self.raw.get("spec"))

    def declared(self) -> list[tuple[list[str | int], dict[str, Any]]]:
        """Every operation the profile declares (the canonical ones and the token request), with where."""
        found: list[tuple[list[str | int], dict[str, Any]]] = [
            (["operations", name], op)
            for name, op in _dict(self.raw.get("operations")).items()
            if isinstance(op, dict)
        ]
        token_request = _dict(self.raw.get("auth")).get("operation")
        if isinstance(token_request, dict):
            found.append((["auth", "operation"], token_request))
        return found

    def operation_id(self, at: Sequence[str | int]) -> str | None:
        """The operationId, known to the spec, of the operation a field at `at` belongs to."""
        if at[0] == "operations" and len(at) > 1:
            op = _dict(self.raw.get("operations")).get(at[1])
        elif at[0] == "auth":
            op = _dict(self.raw.get("auth")).get("operation")
        else:
            return None
        op_id = _dict(op).get("operation_id")
        spec = self.spec
        return op_id if isinstance(op_id, str) and spec is not None and op_id in spec.operations else None

    @cached_property
    def webhook_schema(self) -> tuple[SchemaWalker, Any, str] | None:
        """The webhook body's schema: a file (`schemas/webhook.json`, optionally `#/pointer` into it), or a
        place in the spec (`#/components/schemas/Event`, `components/schemas/Event`, `webhooks/<name>`)."""
        hooks = _dict(self.raw.get("webhooks"))
        named = _dict(self.raw.get("schemas")).get("webhook")
        if isinstance(hooks.get("schema"), str):
            ref, at = str(hooks["schema"]), ["webhooks", "schema"]
        elif isinstance(named, str):
            ref, at = named, ["schemas", "webhook"]
        else:
            return None
        file, _, fragment = ref.partition("#")
        spec = self.spec
        if file and (self.directory / file).is_file():
            document = self.validator.read_json(self.directory / file, self.sink, at, "webhook schema")
            if document is None:
                return None
            walker = SchemaWalker(document)
            node = walker.deref("#" + fragment)
        elif not file or file.startswith(("components/", "webhooks/")):
            if spec is None:
                return None  # the spec's own problem is reported at `spec`
            walker = spec.walker
            node = _body_schema(walker, walker.deref("#" + (fragment if not file else "/" + file)))
            if node is None:
                self.sink.at(at, f"webhook schema {ref}: {self.spec_name} has nothing there")
                return None
            return walker, node, ref
        else:
            self.sink.at(at, f"webhook schema {file} does not exist (relative to the profile)")
            return None
        if node is None:
            self.sink.at(at, f"webhook schema {ref}: {file} has nothing at #{fragment}")
            return None
        return walker, node, ref

    # -- the checks ---------------------------------------------------------------------------------------

    def keys(self) -> None:
        """Status and event names are text: a key YAML reads as a boolean or a number never matches."""
        for section in (["statuses"], ["webhooks", "events"]):
            node: Any = self.raw
            for part in section:
                node = _dict(node).get(part)
            for key in _dict(node):
                if not isinstance(key, str):
                    self.sink.at(
                        [*section, key],
                        f"this key is read by YAML as the {type(key).__name__} {key!r}, never equal to the "
                        "gateway's text: quote it",
                        key=True,
                    )

    def credentials(self) -> None:
        public = self.raw.get("public_credentials")
        for index, name in enumerate(public if isinstance(public, list) else []):
            if name not in self.credential_names:
                self.sink.at(["public_credentials", index], f"{name!r} is not one of the credentials")

    def operations(self) -> None:
        spec = self.spec
        if spec is None:
            return
        hooks = _dict(self.raw.get("hooks"))
        for at, op in self.declared():
            hook = op.get("hook")
            if isinstance(hook, str) and hook not in hooks:
                self.sink.at(
                    [*at, "hook"], f"hook {hook!r} is not declared in hooks ({_listed(list(hooks))})"
                )
            op_id = op.get("operation_id")
            if not isinstance(op_id, str):
                continue
            if op_id not in spec.operations:
                close = difflib.get_close_matches(op_id, list(spec.operations), n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"it has {_listed(list(spec.operations))}"
                self.sink.at(
                    [*at, "operation_id"], f"operationId {op_id!r} is not in {self.spec_name} ({hint})"
                )
                continue
            template = spec.operations[op_id].path
            in_path = re.findall(r"\{([^}]+)\}", template)
            for name in _dict(op.get("path_params")):
                if name not in in_path:
                    self.sink.at(
                        [*at, "path_params", name],
                        f"{op_id}'s path {template} has no {{{name}}}: this value is never sent",
                        key=True,
                    )

    def pointers(self) -> None:
        """Every field the profile schema calls a pointer, resolved in the body it reads."""
        mapped = {str(k) for k in _dict(self.raw.get("statuses"))}
        for at in self.pointer_fields():
            pointer = self.value(at)
            walk: Walk | None = None
            if pointer.startswith(_HEADER):
                continue
            if at[0] in ("operations", "auth"):
                walk = self.response_pointer(at, pointer)
            elif at[0] == "webhooks":
                walk = self.webhook_pointer(at, pointer)
            if walk is None or not walk.ok or not self.reads_status(at):
                continue
            unmapped = [str(v) for v in enum_values(walk.schemas) or [] if str(v) not in mapped]
            if unmapped:
                self.sink.at(
                    at,
                    f"{pointer} can be {', '.join(unmapped)}, which `statuses` does not map to a canonical "
                    "state: a payment in that status could not be read",
                )

    def response_pointer(self, at: Sequence[str | int], pointer: str) -> Walk | None:
        op_id = self.operation_id(at)
        spec = self.spec
        if op_id is None or spec is None:
            return None  # no spec, or an unknown operationId: reported already
        found = spec.walk_response(op_id, pointer)
        if found is None:
            self.sink.at(
                at,
                f"{pointer} cannot be checked: {self.spec_name} documents no JSON or XML success body for {op_id}",
                warning=True,
            )
            return None
        walk, bodies = found
        if not walk.ok:
            self.sink.at(at, f"{pointer} is not in {op_id}'s success response ({bodies}): {walk.problem}")
        return walk

    def webhook_pointer(self, at: Sequence[str | int], pointer: str) -> Walk | None:
        schema = self.webhook_schema
        if schema is None:
            return None
        walker, node, ref = schema
        walk = walker.walk(self.event_branches(walker, node, at), pointer)
        if not walk.ok:
            self.sink.at(at, f"{pointer} is not in the webhook schema {ref}: {walk.problem}")
        return walk

    def event_branches(self, walker: SchemaWalker, node: Any, at: Sequence[str | int]) -> Any:
        """The webhook schema as the field at `at` sees it. A schema that is a `oneOf` of event shapes (a
        session event, a refund event) is narrowed to the shapes whose event type the field is read for: an
        `event_fields.<type>` pointer only in that type's shape, a general pointer only in shapes of types
        it is not overridden for."""
        hooks = _dict(self.raw.get("webhooks"))
        event_type = hooks.get("event_type")
        overrides = _dict(hooks.get("event_fields"))
        if not isinstance(event_type, str) or event_type.startswith(_HEADER) or not overrides:
            return node
        if len(at) == 4 and at[1] == "event_fields":
            wanted: set[str] | None = {str(at[2])}
            overridden: set[str] = set()
        else:
            wanted, overridden = None, {str(t) for t, f in overrides.items() if at[-1] in _dict(f)}
        top = node
        while (
            isinstance(top, dict)
            and isinstance(top.get("$ref"), str)
            and walker.deref(top["$ref"]) is not None
        ):
            top = walker.deref(top["$ref"])
        branches = next(
            (top[k] for k in ("oneOf", "anyOf") if isinstance(top, dict) and isinstance(top.get(k), list)),
            None,
        )
        if branches is None:
            return node

        def carries(branch: Any) -> bool:
            found = walker.walk(branch, event_type)
            types = {str(v) for v in enum_values(found.schemas) or []} if found.ok else set()
            if not types:
                return True  # a shape that does not say its event type may carry any
            return bool(types & wanted) if wanted is not None else bool(types - overridden)

        kept = [b for b in branches if carries(b)]
        return {"anyOf": kept} if kept else node

    @staticmethod
    def reads_status(at: Sequence[str | int]) -> bool:
        """The fields paycert reads a payment's state from: an operation's `status` result, the webhook's
        (and its per-event overrides)."""
        where = list(at)
        return (
            (len(where) == 4 and where[0] == "operations" and where[2] == "result" and where[3] == "status")
            or where == ["webhooks", "status"]
            or (len(where) == 4 and where[:2] == ["webhooks", "event_fields"] and where[3] == "status")
        )

    def events(self) -> None:
        """Event names (`events`, `event_fields`) must be values the webhook schema allows for the type."""
        hooks = _dict(self.raw.get("webhooks"))
        event_type = hooks.get("event_type")
        named = [("events", k) for k in _dict(hooks.get("events")) if isinstance(k, str)]
        named += [("event_fields", k) for k in _dict(hooks.get("event_fields")) if isinstance(k, str)]
        schema = self.webhook_schema if named and isinstance(event_type, str) else None
        if schema is None or not isinstance(event_type, str) or event_type.startswith(_HEADER):
            return
        walker, node, ref = schema
        walk = walker.walk(node, event_type)
        allowed = [str(a) for a in enum_values(walk.schemas) or []] if walk.ok else []
        for section, name in named if allowed else []:
            if str(name) not in allowed:
                self.sink.at(
                    ["webhooks", section, name],
                    f"event {name!r} is not a value {ref} allows at {event_type} ({_listed(allowed)}): "
                    "it never matches",
                    key=True,
                )

    def refunds(self) -> None:
        """A refund state read from amounts needs both amounts from the status read."""
        if _dict(self.raw.get("refunds")).get("state") != "amounts":
            return
        get_payment = _dict(_dict(self.raw.get("operations")).get("get_payment"))
        missing = [k for k in ("amount", "refunded_amount") if k not in _dict(get_payment.get("result"))]
        if missing:
            self.sink.at(
                ["refunds", "state"],
                f"refunds are read from amounts, but get_payment's result has no {' and no '.join(missing)} pointer",
            )

    def templates(self) -> None:
        credentials = set(self.credential_names)
        said = _listed(self.credential_names) or "none"
        for at, op in self.declared():
            for name in _TEMPLATE_FIELDS:
                if name not in op:
                    continue
                if at[0] == "auth":
                    self.placeholders(
                        [*at, name],
                        credentials | {"base_url"},
                        f"is not a declared credential ({said}): the token request has only those",
                    )
                else:
                    self.placeholders(
                        [*at, name],
                        credentials | RUN_VALUES,
                        f"is neither a run value ({_listed(list(RUN_VALUES))}) nor a declared credential ({said})",
                    )
        self.placeholders(["auth", "apply", "value"], {"token"}, "is not {token}, the only value it is given")
        self.placeholders(
            ["webhooks", "signature", "secret"],
            credentials | {"registration"},
            f"is neither a declared credential ({said}) nor {{registration.<field>}}",
        )
        for name in ("entry", "fields"):
            self.placeholders(
                ["shopper", name],
                credentials | RUN_VALUES,
                f"is neither a run value nor a declared credential ({said})",
            )

    def placeholders(self, at: list[str | int], allowed: set[str] | frozenset[str], why: str) -> None:
        doc = self.sink.doc
        if doc is None:
            return
        for value, mark in doc.scalars(at):
            for name in sorted(placeholders(value)):
                if name.split(".", maxsplit=1)[0] not in allowed:
                    self.sink.at_mark(mark, f"{{{name}}} {why}")

    def hooks(self) -> None:
        for name, reference in _dict(self.raw.get("hooks")).items():
            module = reference.partition(":")[0] if isinstance(reference, str) else ""
            if module and not _findable(module):
                self.sink.at(["hooks", name], f"hook module {module!r} cannot be found on the Python path")

    def files(self) -> None:
        """The JSON Schemas the profile names exist and are JSON (the webhook's is read by `pointers`)."""
        named = [
            (["schemas", key], v) for key, v in _dict(self.raw.get("schemas")).items() if key != "webhook"
        ]
        named.append((["return_url", "schema"], _dict(self.raw.get("return_url")).get("schema")))
        for at, value in named:
            if isinstance(value, str) and "#" not in value:
                self.validator.read_json(self.directory / value, self.sink, at, "schema")
        self.webhook_schema  # noqa: B018 (read for the problems it reports, when no pointer needs it)

    def shopper(self) -> None:
        shopper = _dict(self.raw.get("shopper"))
        create = _dict(_dict(self.raw.get("operations")).get("create_payment"))
        if (
            shopper.get("kind") != "hosted-page"
            or not create
            or shopper.get("entry", "redirect_url") != "redirect_url"
        ):
            return
        if "redirect_url" not in _dict(create.get("result")):
            self.sink.at(
                ["shopper", "entry"] if "entry" in shopper else ["shopper"],
                "the shopper enters at redirect_url, but create_payment's result has no redirect_url pointer",
            )

    def cards(self) -> None:
        if "challenge" in self.raw:
            return
        for name, card in _dict(self.raw.get("cards")).items():
            if _dict(card).get("outcome") == "CHALLENGE":
                self.sink.at(
                    ["cards", name, "outcome"],
                    "a CHALLENGE card, but the profile has no `challenge` section to answer it with",
                    warning=True,
                )

    # -- helpers ------------------------------------------------------------------------------------------

    def value(self, at: Sequence[str | int]) -> Any:
        node: Any = self.raw
        for part in at:
            node = node[part]
        return node

    def pointer_fields(self) -> list[list[str | int]]:
        """Where the profile holds a JSON pointer, by its schema (so fields added later are checked too)."""
        walker = SchemaWalker(self.schema)
        found: list[list[str | int]] = []

        def visit(schemas: list[Any], data: Any, at: list[str | int]) -> None:
            expanded, _ = walker.expand_all(schemas)
            if isinstance(data, str):
                if any(s.get("$ref") == _POINTER_DEF for s in expanded):
                    found.append(at)
            elif isinstance(data, dict):
                for key, value in data.items():
                    below = [_property(s, key) for s in expanded]
                    if any(b is not None for b in below):
                        visit([b for b in below if b is not None], value, [*at, key])
            elif isinstance(data, list):
                below = [s["items"] for s in expanded if isinstance(s.get("items"), dict)]
                for index, item in enumerate(data if below else []):
                    visit(below, item, [*at, index])

        visit([self.schema], self.raw, [])
        return found


def _property(schema: dict[str, Any], key: Any) -> Any:
    properties = _dict(schema.get("properties"))
    if key in properties:
        return properties[key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _body_schema(walker: SchemaWalker, node: Any) -> Any:
    """A `webhooks:` entry (or an operation) stands for the schema of the body it receives."""
    if isinstance(node, dict) and not ({"requestBody"} & node.keys()):
        method = next((m for m in HTTP_METHODS if isinstance(node.get(m), dict)), None)
        node = node[method] if method else node
    if not isinstance(node, dict) or "requestBody" not in node:
        return node
    body = node["requestBody"]
    if isinstance(body, dict) and isinstance(body.get("$ref"), str):
        body = walker.deref(body["$ref"])
    content = _dict(_dict(body).get("content"))
    media = next((m for m in content if str(m).split(";")[0].strip().lower().endswith("json")), None)
    return _dict(content.get(media)).get("schema") if media else None


def _findable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
