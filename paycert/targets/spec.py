"""An OpenAPI document as paycert uses it: operations by id, and response validation against it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from paycert.core.errors import SpecError
from paycert.targets.bounds import BodyTooLarge, bounded_client, within
from paycert.targets.files import decode, parse, read_text

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    raw: dict[str, Any]

    def response_key(self, status: int) -> str | None:
        """The key in `responses` that documents `status` (exact, then 2XX-style, then default)."""
        responses: dict[str, Any] = self.raw.get("responses", {})
        for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
            if key in responses:
                return key
        return None


@dataclass(frozen=True)
class SchemaViolation:
    """A response that does not match what the spec documents for it."""

    operation_id: str
    status: int
    message: str
    where: str = ""

    def __str__(self) -> str:
        at = f" at {self.where}" if self.where else ""
        return f"{self.operation_id} -> {self.status}: {self.message}{at}"


# The whole fetch of a spec URL, redirects included, unless the target gives its gateway a timeout.
SPEC_FETCH_SECONDS = 30.0


def _load_document(location: str | Path, fetch_seconds: float) -> dict[str, Any]:
    where = str(location)
    if where.startswith(("http://", "https://")):
        text = decode(_fetch(where, fetch_seconds), where, SpecError, "spec")
    else:
        text = read_text(Path(where), SpecError, "spec")
    data = parse(text, where, SpecError, "spec", as_json=where.endswith(".json"))
    return _openapi(data, where)


def _fetch(url: str, seconds: float) -> bytes:
    try:
        with bounded_client(follow_redirects=True) as client, within(seconds):
            return client.get(url).raise_for_status().content
    except httpx.TimeoutException:
        raise SpecError(f"cannot read spec {url}: no whole answer within {seconds:g} s") from None
    except (httpx.HTTPError, BodyTooLarge) as exc:
        raise SpecError(f"cannot read spec {url}: {_one_line(str(exc))}") from None


def _openapi(data: Any, where: str) -> dict[str, Any]:
    """An OpenAPI 3 document whose `paths` paycert can walk; anything else is named for what it is."""
    if not isinstance(data, dict):
        raise SpecError(f"spec {where} is not an OpenAPI document (it holds {_kind(data)}, not a mapping)")
    if "swagger" in data:
        raise SpecError(
            f"spec {where} is Swagger {data['swagger']}; paycert reads OpenAPI 3 (convert it first)"
        )
    version = str(data.get("openapi", ""))
    if version.split(".", maxsplit=1)[0] != "3":
        found = f"'openapi' is {data['openapi']!r}" if "openapi" in data else "no 'openapi' field"
        raise SpecError(f"spec {where} is not an OpenAPI 3 document ({found})")
    if "paths" not in data:
        raise SpecError(f"spec {where} has no 'paths': there is nothing to certify")
    paths = data["paths"]
    if not isinstance(paths, dict):
        raise SpecError(f"spec {where}: 'paths' must map paths to operations, not be {_kind(paths)}")
    for path, item in paths.items():
        if not isinstance(item, dict):
            raise SpecError(
                f"spec {where}: paths/{path} must map methods to operations, not be {_kind(item)}"
            )
    return data


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    names = {str: "a string", list: "a list", bool: "a boolean", int: "a number", float: "a number"}
    return names.get(type(value), f"a {type(value).__name__}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


class ApiSpec:
    """One gateway's OpenAPI document."""

    def __init__(self, document: dict[str, Any], location: str) -> None:
        self.document = document
        self.location = location
        self._registry: Registry[Any] = Registry().with_resource(
            "urn:paycert:spec", Resource.from_contents(document, default_specification=DRAFT202012)
        )

    @classmethod
    def from_location(cls, location: str | Path, *, fetch_seconds: float = SPEC_FETCH_SECONDS) -> ApiSpec:
        """The spec at a path or URL; a URL must be read whole within `fetch_seconds`."""
        return cls(_load_document(location, fetch_seconds), str(location))

    @property
    def title(self) -> str:
        return str(self.document.get("info", {}).get("title", self.location))

    @cached_property
    def operations(self) -> dict[str, Operation]:
        found: dict[str, Operation] = {}
        for path, item in self.document["paths"].items():
            for method in HTTP_METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    op_id = op.get("operationId") or f"{method.upper()} {path}"
                    found[op_id] = Operation(op_id, method.upper(), path, op)
        return found

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise SpecError(f"{self.location} has no operation {operation_id!r}") from None

    def validate_response(
        self, operation_id: str, status: int, content_type: str, body: Any
    ) -> list[SchemaViolation]:
        """What is wrong with a response, by the spec; empty when it conforms."""
        op = self.operation(operation_id)
        key = op.response_key(status)
        if key is None:
            return [SchemaViolation(operation_id, status, f"status {status} is not documented")]
        pointer = f"/paths/{_escape(op.path)}/{op.method.lower()}/responses/{_escape(key)}"
        documented, pointer = self._follow(pointer)
        content: dict[str, Any] = documented.get("content") or {}
        if not content:
            return []
        media = content_type.split(";", maxsplit=1)[0].strip().lower()
        chosen = next((k for k in content if k.split(";")[0].strip().lower() == media), None)
        if chosen is None:
            allowed = ", ".join(content)
            return [
                SchemaViolation(
                    operation_id, status, f"content type {media or 'none'} is not documented ({allowed})"
                )
            ]
        if "schema" not in content[chosen] or not media.endswith("json"):
            return []
        # Validate through a $ref into the whole document, so the schema's own "#/components/..." refs resolve.
        ref = f"urn:paycert:spec#{pointer}/content/{_escape(chosen)}/schema"
        validator = jsonschema.Draft202012Validator({"$ref": ref}, registry=self._registry)
        return [
            SchemaViolation(
                operation_id, status, error.message, "/" + "/".join(str(p) for p in error.absolute_path)
            )
            for error in sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])
        ]

    def _follow(self, pointer: str) -> tuple[dict[str, Any], str]:
        """The node at `pointer`, following $refs, and the pointer where it really is."""
        node: Any = self.document
        for part in pointer.lstrip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        ref = node.get("$ref") if isinstance(node, dict) else None
        if isinstance(ref, str) and ref.startswith("#/"):
            return self._follow(ref[1:])
        return node, pointer

    def server_path_prefix(self) -> str:
        servers = self.document.get("servers") or []
        return urlparse(servers[0]["url"]).path.rstrip("/") if servers else ""
