"""Following a profile's JSON pointer through the JSON Schema of the body it reads, without any body.

A pointer resolves when each step names something the schema declares: a property (or a patternProperty,
or any name under an `additionalProperties` schema), or an index of an array. `$ref`s are followed (local
ones: `#/...` in the same document), and `allOf`, `anyOf` and `oneOf` are taken together: a step resolves
when any branch declares it. A part of the schema that declares nothing (`{}`, a bare `type: object`, a ref
to another file) is free-form: anything beneath it resolves, since nothing says otherwise. Typos are what
this catches: `/paymentID` where the schema says `paymentId`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# A recursive schema (a tree of nodes) is followed this deep at most; no profile points further.
_MAX_DEPTH = 64


@dataclass(frozen=True)
class Walk:
    """Where a pointer ends: the schemas it reaches (empty when it ends in a free-form part), or why not."""

    ok: bool
    schemas: tuple[dict[str, Any], ...] = ()
    problem: str = ""


def pointer_parts(pointer: str) -> list[str]:
    if pointer in ("", "/"):
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]


class SchemaWalker:
    """Walks pointers through schemas of one document (an OpenAPI document or a JSON Schema file)."""

    def __init__(self, document: Any) -> None:
        self.document = document

    def walk(self, schema: Any, pointer: str) -> Walk:
        schemas, free = self.expand(schema)
        where = ""
        for part in pointer_parts(pointer):
            if free:
                return Walk(ok=True)
            children, declared, names = _step(schemas, part)
            if children:
                schemas, free = self.expand_all(children)
            elif not declared:
                return Walk(ok=True)
            else:
                has = f"it has {', '.join(sorted(names))}" if names else _what(schemas)
                return Walk(ok=False, problem=f"nothing named {part!r} at {where or '/'} ({has})")
            where += "/" + part
        return Walk(ok=True, schemas=() if free else tuple(schemas))

    def expand_all(self, schemas: Iterable[Any]) -> tuple[list[dict[str, Any]], bool]:
        found: list[dict[str, Any]] = []
        free = False
        for schema in schemas:
            more, opaque = self.expand(schema)
            found.extend(more)
            free = free or opaque
        return found, free

    def expand(self, schema: Any) -> tuple[list[dict[str, Any]], bool]:
        """The schema and every schema it stands for ($refs followed, allOf/anyOf/oneOf branches), and
        whether some part could not be followed (a ref to another file, a boolean `true` schema)."""
        found: list[dict[str, Any]] = []
        opaque = False

        def visit(node: Any, depth: int) -> None:
            nonlocal opaque
            if node is True or depth > _MAX_DEPTH:
                opaque = True
                return
            if not isinstance(node, dict):
                return
            if any(n is node for n in found):
                return
            found.append(node)
            ref = node.get("$ref")
            if isinstance(ref, str):
                target = self.deref(ref)
                if target is None:
                    opaque = True
                else:
                    visit(target, depth + 1)
            for keyword in ("allOf", "anyOf", "oneOf"):
                branches = node.get(keyword)
                for branch in branches if isinstance(branches, list) else []:
                    visit(branch, depth + 1)

        visit(schema, 0)
        return found, opaque

    def deref(self, ref: str) -> Any:
        """The node a local `#/...` ref names, or None for one that is not local or does not resolve."""
        if not ref.startswith("#"):
            return None
        node: Any = self.document
        for part in pointer_parts(ref[1:]):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        return node


def enum_values(schemas: Iterable[dict[str, Any]]) -> list[Any] | None:
    """The values the schemas allow when they list them (`enum`, `const`), else None."""
    values: list[Any] = []
    listed = False
    for schema in schemas:
        if isinstance(schema.get("enum"), list):
            listed = True
            values.extend(v for v in schema["enum"] if v is not None)
        if "const" in schema:
            listed = True
            if schema["const"] is not None:
                values.append(schema["const"])
    return list(dict.fromkeys(values)) if listed else None


def _step(schemas: list[dict[str, Any]], part: str) -> tuple[list[Any], bool, set[str]]:
    """The schemas one step down (`part`), whether any schema declares a shape at all, and the names
    it declares (for the message)."""
    children: list[Any] = []
    declared = False
    names: set[str] = set()
    for schema in schemas:
        properties = schema.get("properties")
        if isinstance(properties, dict):
            declared = True
            names.update(str(k) for k in properties)
            if part in properties:
                children.append(properties[part])
        patterns = schema.get("patternProperties")
        if isinstance(patterns, dict):
            declared = True
            children.extend(sub for pattern, sub in patterns.items() if _matches(pattern, part))
        extra = schema.get("additionalProperties")
        if extra is False:
            declared = True
        elif isinstance(extra, dict) and not (isinstance(properties, dict) and part in properties):
            declared = True
            children.append(extra)
        if "items" in schema or "prefixItems" in schema:
            declared = True
            children.extend(_item(schema, part))
        if _is_scalar(schema):
            declared = True
    return children, declared, names


def _item(schema: dict[str, Any], part: str) -> list[Any]:
    if not part.isdigit():
        return []
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list) and int(part) < len(prefix):
        return [prefix[int(part)]]
    items = schema.get("items")
    return [items] if isinstance(items, (dict, bool)) and items is not False else []


def _is_scalar(schema: dict[str, Any]) -> bool:
    """A schema for a value without members: a non-container type, or a list of allowed values."""
    kind = schema.get("type")
    kinds = {kind} if isinstance(kind, str) else set(kind) if isinstance(kind, list) else set()
    if kinds and not kinds & {"object", "array"}:
        return True
    return "enum" in schema or "const" in schema


def _what(schemas: list[dict[str, Any]]) -> str:
    kinds = sorted({str(s["type"]) for s in schemas if isinstance(s.get("type"), str)})
    return f"a {' or '.join(kinds)} has no members" if kinds else "it declares no members"


def _matches(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return False
