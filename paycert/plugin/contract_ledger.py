"""What the contract run may change: only what it created itself, kept in a ledger of ids.

Fuzzing reads ids wherever it can (the spec's examples, list and detail responses, links) and then sends
DELETE, PUT, PATCH and POST requests to them: left alone, it deleted a webhook registration paycert had made
for a later suite, and on a live account it would delete or change the merchant's own resources. So every id
a create request of this run got back (the fields the spec's links name, `id`, `<resource>Id`, the
`Location` header) goes into the ledger, and a write whose path names a known id that is not in it (one the
spec's examples give, or one any answer of this run carried) is sent to a fresh id of the same shape
instead: a resource nobody has, so the gateway answers it as it answers any unknown id (404), and nothing
that existed before the run is touched. Values the generator made up are left as they are: they name
nothing, and changing them would only disturb the generator's search.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any
from urllib.parse import unquote

from paycert.plugin.contract_scope import iter_operations, path_parameters

LEDGER_METHODS = frozenset({"DELETE", "PUT", "PATCH", "POST"})  # the methods that change what a path names
_BODY_POINTER = re.compile(r"^\$response\.body#/(.+)$")
_PREFIX = re.compile(r"^[A-Za-z]+[_-]")  # `wh_`, `pi_`, `cus-`: kept, ids often carry a kind prefix
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")  # a percent-escape is kept whole: its bytes are not an id's
EXAMPLE_KEYS = frozenset({"example", "examples", "default", "x-example"})
MAX_KNOWN_LENGTH = 200  # longer values are texts, not ids
# What a character of an id may become in a fresh id of the same shape: digits for digits, hex for hex.
CHARACTER_CLASSES = ("0123456789", "abcdef", "ghijklmnopqrstuvwxyz", "ABCDEF", "GHIJKLMNOPQRSTUVWXYZ")
_RANDOM = random.SystemRandom()


class Ledger:
    """Ids created in this contract run, and the writes redirected away from ids it did not create."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._fields = _created_id_fields(document)
        self._ids: set[str] = set()
        self._known: set[str] = set(_scalars(_examples(document)))  # ids that may name something real
        self._lock = threading.Lock()
        self.redirected: dict[str, int] = {}  # operation label -> writes sent to a fresh id instead
        self._sent_fresh: set[str] = set()  # the fresh ids those writes went to

    def __contains__(self, value: object) -> bool:
        with self._lock:
            return str(value) in self._ids

    def record(self, method: str, path: str, status: int, body: Any, headers: Mapping[str, Any]) -> None:
        """Keep the ids a successful create request (POST) of this run got back, and every value any
        successful answer carried (those may name resources that existed before the run)."""
        if not 200 <= status < 300:
            return
        location = _first(headers.get("Location") or headers.get("location"))
        named = [location.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]] if location else []
        seen = [*_scalars(body), *named]
        created = [*_ids_in(body, self._fields.get(path, set()), _resource_names(path)), *named]
        with self._lock:
            self._known.update(seen)
            if method.upper() == "POST":
                self._ids.update(v for v in created if v)

    def guard(self, method: str, label: str, path: str, parameters: MutableMapping[str, Any]) -> None:
        """Send a write to a fresh id when the id its path names (the last parameter) was not created here."""
        names = path_parameters(path)
        if method.upper() not in LEDGER_METHODS or not names or names[-1] not in parameters:
            return
        value = parameters[names[-1]]
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            return
        plain = unquote(str(value))
        with self._lock:
            if plain in self._ids or plain not in self._known:
                return
        fresh = self._fresh(value)
        parameters[names[-1]] = fresh
        with self._lock:
            self.redirected[label] = self.redirected.get(label, 0) + 1
            self._sent_fresh.add(str(fresh))

    def redirected_to(self, parameters: Mapping[str, Any]) -> bool:
        """Whether a request with these path parameters went to a fresh id instead of the one it was given."""
        with self._lock:
            return any(str(v) in self._sent_fresh for v in parameters.values())

    def _fresh(self, value: str | int) -> str | int:
        for _ in range(8):
            candidate = fresh_like(value)
            if candidate != value and candidate not in self:
                return candidate
        return candidate


def fresh_like(value: str | int, rng: random.Random = _RANDOM) -> str | int:
    """A new id of the same shape (length, kind prefix, digits for digits, hex for hex), so it stays as
    valid or as invalid for the spec as the one it replaces. `rng`: a seeded one gives the same id again."""
    if isinstance(value, int):
        digits = len(str(abs(value)))
        low = 10 ** (digits - 1) if digits > 1 else 0
        number = rng.randint(low, 10**digits - 1)
        return -number if value < 0 else number
    prefix = _kind_prefix(value)
    parts = _ESCAPE.split(value[len(prefix) :])
    escapes = _ESCAPE.findall(value[len(prefix) :])
    fresh = "".join(rng.choice(character_class(c)) for c in parts[0])
    for escape, part in zip(escapes, parts[1:], strict=True):
        fresh += escape + "".join(rng.choice(character_class(c)) for c in part)
    return prefix + fresh


def shape_choices(value: str) -> int:
    """How many ids `fresh_like` can make of `value`'s shape (its kind prefix and percent-escapes kept)."""
    choices = 1
    for part in _ESCAPE.split(value[len(_kind_prefix(value)) :]):
        for char in part:
            choices *= len(character_class(char))
    return choices


def _kind_prefix(value: str) -> str:
    """`wh_` of `wh_1a2b`: kept in a fresh id (not when it is all there is)."""
    return match.group(0) if (match := _PREFIX.match(value)) and len(value) > len(match.group(0)) else ""


def character_class(char: str) -> str:
    """The characters that may stand in for `char` in an id of the same shape (itself, if none)."""
    for pool in CHARACTER_CLASSES:
        if char in pool:
            return pool
    return char


def _created_id_fields(document: Mapping[str, Any]) -> dict[str, set[str]]:
    """Per path of a POST, the response fields its links pass on (`$response.body#/invoiceId`)."""
    fields: dict[str, set[str]] = {}
    for _, method, path, op in iter_operations(document):
        if method != "post":
            continue
        for response in (op.get("responses") or {}).values():
            links = response.get("links") if isinstance(response, dict) else None
            for link in (links or {}).values() if isinstance(links, dict) else ():
                for expression in (link.get("parameters") or {}).values() if isinstance(link, dict) else ():
                    match = _BODY_POINTER.match(str(expression))
                    if match:
                        fields.setdefault(path, set()).add(
                            match.group(1).replace("~1", "/").replace("~0", "~")
                        )
    return fields


def _resource_names(path: str) -> set[str]:
    """`id`, and `<resource>id` for the last literal segment (`/webhooks` -> `webhookid`), lower-case."""
    literal = [part for part in path.strip("/").split("/") if part and not part.startswith("{")]
    names = {"id"}
    if literal:
        last = re.sub(r"[^a-z0-9]", "", literal[-1].lower())
        names |= {f"{last}id", f"{last.removesuffix('s')}id", f"{last.removesuffix('es')}id"}
    return names


def _ids_in(body: Any, pointers: Iterable[str], names: set[str]) -> Iterable[str]:
    """The values at the link pointers, and at id-like keys of the body or of one object inside it."""
    for pointer in pointers:
        node = body
        for part in pointer.split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, (str, int)) and not isinstance(node, bool):
            yield str(node)
    objects = [body, *(v for v in body.values() if isinstance(v, dict))] if isinstance(body, dict) else []
    for obj in objects:
        for key, value in obj.items():
            normal = re.sub(r"[^a-z0-9]", "", str(key).lower())
            if normal in names and isinstance(value, (str, int)) and not isinstance(value, bool):
                yield str(value)


def _scalars(node: Any) -> Iterator[str]:
    """Every string and integer in a JSON document, as text (ids are one or the other)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, (str, int)) and not isinstance(item, bool):
            text = str(item)
            if text and len(text) <= MAX_KNOWN_LENGTH:
                yield text


def _examples(document: Mapping[str, Any]) -> list[Any]:
    """The spec's example and default values, wherever they are (path parameters' above all)."""
    found: list[Any] = []
    stack: list[Any] = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                (found if key in EXAMPLE_KEYS else stack).append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value) if value else ""
