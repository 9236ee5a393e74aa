"""Answers asked for in XML, read against the spec and against the JSON answer (CON-XML).

A gateway that answers XML on request (the profile's `xml`: the Accept that asks for it, the root element)
must answer the fields it answers in JSON, shaped as its spec says. The shape is the response's schema for the
XML media type, read the way OpenAPI maps a schema to XML: an object is an element whose children are its
properties (named by the property or its `xml.name`; `xml.attribute` ones are attributes), a list is either
a wrapping element (`xml.wrapped`) holding one element per item or those elements repeated in place, items
named by their `xml.name` (else the property's name), and a scalar is the text of its element, typed by its
schema. The root element is named by the schema's `xml.name`, else by the profile's `xml.root`.

The XML answer is read into a document by that mapping — an element the schema does not name is kept too, so
nothing is lost — which is then validated against the response's JSON Schema and compared, value by value,
with the JSON answer to the same call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from paycert.core.errors import NotApplicable
from paycert.gateways.client import ApiResult
from paycert.targets.profile import Profile
from paycert.targets.spec import ApiSpec

DEFAULT_ROOT = "response"
_URN = "urn:paycert:xml-answers"
_INTEGER = re.compile(r"-?[0-9]+")
# Moments of the answer itself (`format: date-time`): two answers made a moment apart differ in them, so they
# are checked for their shape (present, a date-time by the schema) and not compared.
_MOMENT_FORMATS = frozenset({"date-time"})


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _local(tag: str) -> str:
    """An element's name without its namespace (`{urn:x}paymentId` -> `paymentId`)."""
    return tag.rsplit("}", 1)[-1]


def _text_of(value: Any) -> str:
    """A JSON value as XML writes it: booleans as true/false, every other scalar as its text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    return [str(t) for t in declared] if isinstance(declared, list) else []


def _kind(schema: Mapping[str, Any]) -> str | None:
    types = _types(schema)
    if "object" in types or "properties" in schema:
        return "object"
    if "array" in types or "items" in schema:
        return "array"
    return "scalar" if types or "enum" in schema or "const" in schema else None


def _typed(text: str, schema: Mapping[str, Any]) -> Any:
    """An element's text as the value its schema says it is; text the schema's type cannot read stays text,
    so that validation names the mismatch."""
    for allowed in [*schema.get("enum", []), *([schema["const"]] if "const" in schema else [])]:
        if _text_of(allowed) == text:
            return allowed
    types = _types(schema)
    if "integer" in types and _INTEGER.fullmatch(text):
        return int(text)
    if "number" in types and _number(text) is not None and text.strip() == text and text:
        return int(text) if _INTEGER.fullmatch(text) else float(text)
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    if "null" in types and text == "":
        return None
    return text


@dataclass
class _Reading:
    """An XML element tree read into a document by a schema, with what did not fit the mapping."""

    spec: ApiSpec
    problems: list[str] = field(default_factory=list)

    def resolved(self, schema: Any) -> dict[str, Any]:
        """`schema` with its local `$ref`s followed and its `allOf` parts merged (properties, required)."""
        node: Any = schema if isinstance(schema, dict) else {}
        seen = 0
        while isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and seen < 32:
            extra = {k: v for k, v in node.items() if k != "$ref"}  # 3.1: siblings of $ref (an `xml`) apply
            node = {**_at(self.spec.document, node["$ref"][1:]), **extra}
            seen += 1
        if "allOf" not in node:
            return dict(node)
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        for declared in node["allOf"]:
            part = self.resolved(declared)
            merged["properties"] = {**part.get("properties", {}), **merged.get("properties", {})}
            merged["required"] = [*merged.get("required", []), *part.get("required", [])]
            for key, value in part.items():
                merged.setdefault(key, value)
        return merged

    def read(self, element: ElementTree.Element, schema: Any, where: str) -> Any:
        schema = self.resolved(schema)
        kind = _kind(schema)
        children = list(element)
        if kind == "object" or (kind is None and (children or element.attrib)):
            return self.read_object(element, schema, where)
        if kind == "array":
            items = schema.get("items", {})
            return [self.read(child, items, f"{where}/{n}") for n, child in enumerate(children)]
        if children:
            self.problems.append(
                f"{where or '/'}: <{_local(element.tag)}> holds elements, but the spec says it is a value"
            )
            return self.read_object(element, {}, where)
        return _typed(element.text or "", schema)

    def read_object(self, element: ElementTree.Element, schema: dict[str, Any], where: str) -> dict[str, Any]:
        children = list(element)
        taken: set[int] = set()
        out: dict[str, Any] = {}

        def named(tag: str) -> list[ElementTree.Element]:
            return [c for c in children if _local(c.tag) == tag and id(c) not in taken]

        for name, declared in (schema.get("properties") or {}).items():
            prop = self.resolved(declared)
            xml = prop.get("xml") or {}
            tag = str(xml.get("name", name))
            at = f"{where}/{name}"
            if xml.get("attribute"):
                if tag in element.attrib:
                    out[name] = _typed(element.attrib[tag], prop)
                continue
            if _kind(prop) == "array":
                # Items are named by their own `xml.name`, else by the property (OpenAPI's XML object); a
                # wrapped list is one element named by the property, holding them.
                wrapped = bool(xml.get("wrapped"))
                items = self.resolved(prop.get("items", {}))
                item_tag = str((items.get("xml") or {}).get("name", tag))
                found = self.read_list(named(tag if wrapped else item_tag), tag, item_tag, items, at, wrapped)
                if found is not None:
                    taken.update(found[0])
                    out[name] = found[1]
                continue
            elements = named(tag)
            if not elements:
                continue
            if len(elements) > 1:
                self.problems.append(f"{at}: <{tag}> appears {len(elements)} times, the spec has one value")
            taken.update(id(e) for e in elements)
            out[name] = self.read(elements[0], prop, at)
        properties = schema.get("properties") or {}
        for child in children:
            if id(child) not in taken:
                # Not where the schema puts any property: kept, so the schema and the comparison see it.
                tag = _local(child.tag)
                if tag in out:
                    self.problems.append(f"{where}/{tag}: <{tag}> appears more than once")
                elif tag in properties:
                    self.problems.append(
                        f"{where}/{tag}: an element <{tag}>, which the spec writes otherwise"
                    )
                out[tag] = self.read(child, {}, f"{where}/{tag}")
        return out

    def read_list(
        self,
        elements: list[ElementTree.Element],
        tag: str,
        item_tag: str,
        items: dict[str, Any],
        at: str,
        wrapped: bool,
    ) -> tuple[set[int], list[Any]] | None:
        """(the elements it took, the list) of an array property; None when the answer has none of it."""
        if not elements:
            return None
        if not wrapped:
            return {id(e) for e in elements}, [
                self.read(e, items, f"{at}/{n}") for n, e in enumerate(elements)
            ]
        if len(elements) > 1:
            self.problems.append(f"{at}: <{tag}> appears {len(elements)} times, the spec has one list")
        wrapper = elements[0]
        values = []
        for n, child in enumerate(wrapper):
            if _local(child.tag) != item_tag:
                self.problems.append(f"{at}/{n}: <{tag}> holds <{_local(child.tag)}>, not <{item_tag}>")
            values.append(self.read(child, items, f"{at}/{n}"))
        return {id(e) for e in elements}, values


def _at(document: Any, pointer: str) -> dict[str, Any]:
    node: Any = document
    for part in pointer.lstrip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node if isinstance(node, dict) else {}


@dataclass(frozen=True)
class XmlAnswers:
    """How a gateway answers in XML (the profile's `xml`), and the check of one XML answer against the spec and
    the JSON answer to the same call."""

    accept: str
    root: str
    spec: ApiSpec
    profile: Profile

    @classmethod
    def of(cls, profile: Profile) -> XmlAnswers:
        """The profile's XML answers; not applicable, with the profile's `unsupported` reason, without them."""
        declared = profile.raw.get("xml")
        if not declared:
            raise NotApplicable(
                profile.unsupported.get("xml")
                or f"{profile.id} answers in JSON only (its profile has no `xml` section)"
            )
        return cls(str(declared["accept"]), str(declared.get("root", DEFAULT_ROOT)), profile.spec, profile)

    @property
    def headers(self) -> dict[str, str]:
        """The request headers that ask for XML."""
        return {"Accept": self.accept}

    @staticmethod
    def own_ids(in_json: ApiResult, in_xml: ApiResult) -> dict[str, str]:
        """What two calls made of their own, by the ids their answers give it (the profile's result pointers
        named `*_id`: a payment's, a refund's): the JSON call's id -> the XML call's, where they differ."""
        found: dict[str, str] = {}
        for key, mine in in_json.values.items():
            theirs = in_xml.values.get(key)
            named = key.endswith("_id") and isinstance(mine, str | int) and isinstance(theirs, str | int)
            if named and str(mine) != str(theirs):
                found[str(mine)] = str(theirs)
        return found

    def differences(self, in_json: ApiResult, in_xml: ApiResult, same: Mapping[str, str]) -> list[str]:
        """What is wrong with `in_xml`, the XML answer to the call `in_json` answered in JSON: not XML, not of
        the spec's shape, or a value that is not the JSON one. `same` maps values of the JSON call's own objects
        (its payment id, reference, refund id) to the XML call's, where the two calls made objects of their own."""
        operation_id = str(self.profile.operations[in_xml.operation]["operation_id"])
        label = f"{in_xml.operation} ({operation_id} -> {in_xml.status})"
        if in_xml.status != in_json.status:
            return [f"{label}: HTTP {in_xml.status} in XML, {in_json.status} in JSON"]
        media = in_xml.answer.headers.get("content-type", "").split(";", maxsplit=1)[0].strip().lower()
        if not media.endswith("xml"):
            return [f"{label}: asked for {self.accept}, answered {media or 'no content type'}"]
        documented = self._schema_pointer(operation_id, in_xml.status, media)
        if documented is None:
            return [f"{label}: the spec documents no {media} answer for HTTP {in_xml.status}"]
        try:
            element = ElementTree.fromstring(in_xml.answer.text)  # noqa: S314 - a gateway's answer in a test run
        except ElementTree.ParseError as exc:
            return [f"{label}: the answer is not well-formed XML ({exc})"]
        reading = _Reading(self.spec)
        schema = reading.resolved(_at(self.spec.document, documented))
        root = str((schema.get("xml") or {}).get("name", self.root))
        problems = []
        if _local(element.tag) != root:
            problems.append(f"the root element is <{_local(element.tag)}>, not <{root}>")
        document = reading.read(element, schema, "")
        problems += reading.problems
        problems += _compare(reading, in_json.body, document, schema, "", same)
        problems += self._invalid(documented, document)
        return [f"{label}: {problem}" for problem in problems]

    def _schema_pointer(self, operation_id: str, status: int, media: str) -> str | None:
        """Where in the spec the schema of the `media` answer of `operation_id` with `status` is."""
        op = self.spec.operation(operation_id)
        key = op.response_key(status)
        if key is None:
            return None
        pointer = f"/paths/{_escape(op.path)}/{op.method.lower()}/responses/{_escape(key)}"
        response = _at(self.spec.document, pointer)
        while isinstance(response.get("$ref"), str) and response["$ref"].startswith("#/"):
            pointer = response["$ref"][1:]
            response = _at(self.spec.document, pointer)
        content: dict[str, Any] = response.get("content") or {}
        chosen = next((k for k in content if k.split(";")[0].strip().lower() == media), None)
        if chosen is None or "schema" not in content[chosen]:
            return None
        return f"{pointer}/content/{_escape(chosen)}/schema"

    def _invalid(self, pointer: str, document: Any) -> list[str]:
        registry: Registry[Any] = Registry().with_resource(
            _URN, Resource.from_contents(self.spec.document, default_specification=DRAFT202012)
        )
        validator = jsonschema.Draft202012Validator({"$ref": f"{_URN}#{pointer}"}, registry=registry)
        return [
            f"/{'/'.join(str(p) for p in error.absolute_path)}: {error.message} (the spec's schema)"
            for error in sorted(
                validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]
            )
        ]


def _substituted(value: str, same: Mapping[str, str]) -> str:
    for mine in sorted(same, key=len, reverse=True):
        if mine and mine in value:
            value = value.replace(mine, same[mine])
    return value


def _compare(
    reading: _Reading, in_json: Any, in_xml: Any, schema: Any, where: str, same: Mapping[str, str]
) -> list[str]:
    """Where the XML document's values are not the JSON answer's (its own objects' ids excepted, by `same`)."""
    schema = reading.resolved(schema)
    at = where or "/"
    if isinstance(in_json, dict):
        if not isinstance(in_xml, dict):
            return [f"{at}: an object in JSON, {in_xml!r} in XML"]
        properties = schema.get("properties") or {}
        found: list[str] = []
        for key, value in in_json.items():
            if key not in in_xml:
                if value is not None:  # XML has no null: a null field is absent
                    found.append(f"{where}/{key}: missing in XML (JSON has {value!r})")
                continue
            found += _compare(reading, value, in_xml[key], properties.get(key, {}), f"{where}/{key}", same)
        found += [
            f"{where}/{key}: only in XML ({in_xml[key]!r}), not in the JSON answer"
            for key in in_xml
            if key not in in_json
        ]
        return found
    if isinstance(in_json, list):
        if not isinstance(in_xml, list):
            return [f"{at}: a list in JSON, {in_xml!r} in XML"]
        if len(in_json) != len(in_xml):
            return [f"{at}: {len(in_json)} items in JSON, {len(in_xml)} in XML"]
        items = schema.get("items", {})
        return [
            problem
            for n, (a, b) in enumerate(zip(in_json, in_xml, strict=True))
            for problem in _compare(reading, a, b, items, f"{where}/{n}", same)
        ]
    if schema.get("format") in _MOMENT_FORMATS:
        return []
    expected = _substituted(in_json, same) if isinstance(in_json, str) else in_json
    if _same_value(expected, in_xml):
        return []
    own = " (the XML call's own object)" if expected != in_json else ""
    return [f"{at}: {_text_of(in_xml)!r} in XML, {_text_of(expected)!r}{own} in JSON"]


def _same_value(expected: Any, found: Any) -> bool:
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        number = _number(found)
        return number is not None and number == _number(expected)
    return _text_of(expected) == _text_of(found) and not isinstance(found, dict | list)
