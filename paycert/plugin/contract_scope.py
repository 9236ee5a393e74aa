"""Which operations of a spec the contract run tests, and which it leaves alone (each with its reason).

Left alone, and said so in the report: paycert's own token request, sandbox-only operations, operations the
target's `contract:` filter does not select, and writes to a singleton resource (a PUT, PATCH or DELETE whose
path names no id, such as a merchant's webhook endpoint): nothing in the path tells a resource this run made
from configuration someone else set up, so fuzzing it could break later suites or a merchant's account.
Operations whose external `$ref`s cannot be fetched are not tested either; the harness error names the URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from paycert.targets.contract_filter import OperationFilter

# Tags and extensions that mark operations fuzzing must leave alone: paycert's own token request is driven by
# the profile, and sandbox-only operations stand in for configuration a real gateway does out of band.
EXCLUDED_TAGS = ("sandbox-only",)
SANDBOX_ONLY_EXTENSION = "x-sandbox-only"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
WRITES = frozenset({"put", "patch", "delete"})
SINGLETON_REASON = (
    "writes a singleton resource (no id in its path) that this run did not create: left alone, so "
    "configuration set up before the contract run survives it"
)
REF_FETCH_TIMEOUT_S = 10.0
_PATH_PARAMETER = re.compile(r"\{([^}/]+)\}")


@dataclass(frozen=True)
class Selection:
    """The operations to test (label -> operation object), and those left out with the reason."""

    operations: dict[str, dict[str, Any]]
    excluded: dict[str, str]  # label -> why fuzzing leaves it alone
    unselected: tuple[str, ...] = ()  # not selected by the target's `contract:` filter


def iter_operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(label, method, path, operation object) for each operation, in the document's order."""
    paths = document.get("paths")
    for path, item in paths.items() if isinstance(paths, dict) else ():
        if isinstance(item, dict):
            for method in METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    yield f"{method.upper()} {path}", method, str(path), op


def operation_labels(document: Mapping[str, Any]) -> list[str]:
    return [label for label, *_ in iter_operations(document)]


def path_parameters(path: str) -> list[str]:
    """The template's parameter names, in the order they appear (the last one names the resource acted on)."""
    return _PATH_PARAMETER.findall(path)


def select_operations(
    document: Mapping[str, Any],
    never: frozenset[str],
    *,
    only: OperationFilter | None = None,
    live_read_only: bool = False,
) -> Selection:
    operations: dict[str, dict[str, Any]] = {}
    excluded: dict[str, str] = {}
    unselected: list[str] = []
    for label, method, path, op in iter_operations(document):
        if op.get("operationId") in never:
            excluded[label] = "the token request: paycert drives it from the profile (AUTH-*)"
        elif op.get(SANDBOX_ONLY_EXTENSION) or set(op.get("tags") or ()) & set(EXCLUDED_TAGS):
            excluded[label] = "sandbox-only: stands in for out-of-band configuration"
        elif only is not None and not only.matches(path, op):
            unselected.append(label)
        elif method in WRITES and not path_parameters(path):
            excluded[label] = SINGLETON_REASON
        elif live_read_only and method != "get":
            unselected.append(label)
        else:
            operations[label] = op
    return Selection(operations, excluded, tuple(unselected))


def unfetchable_refs(
    document: Mapping[str, Any],
    operations: Mapping[str, Mapping[str, Any]],
    location: str | None,
    *,
    verify: bool | str = True,
) -> dict[str, tuple[str, list[str]]]:
    """External `$ref`s the operations use that cannot be fetched: URL -> (why, the operations using it).

    schemathesis generates from an unresolvable `$ref` as if it were any value and validates nothing against
    it, so an operation using one would be "tested" against a schema nobody read.
    """
    users: dict[str, list[str]] = {}
    for label, op in operations.items():
        for ref in _external_refs(document, op):
            users.setdefault(_absolute(ref, location), []).append(label)
    found: dict[str, tuple[str, list[str]]] = {}
    for url, labels in users.items():
        problem = _fetch_problem(url, verify)
        if problem:
            found[url] = (problem, sorted(set(labels)))
    return found


def _external_refs(document: Mapping[str, Any], operation: Mapping[str, Any]) -> set[str]:
    """The non-local `$ref`s reachable from an operation, through the document's local ones."""
    found: set[str] = set()
    seen: set[str] = set()
    stack: list[Any] = [operation]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if not ref.startswith("#"):
                    found.add(ref)
                elif ref not in seen:
                    seen.add(ref)
                    stack.append(_local(document, ref))
            stack.extend(v for k, v in node.items() if k != "$ref")
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _local(document: Mapping[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        key = unquote(part).replace("~1", "/").replace("~0", "~")
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _absolute(ref: str, location: str | None) -> str:
    """The document part of a `$ref` (no fragment), as a URL or file path relative to the spec's location."""
    target = ref.split("#", 1)[0]
    if urlsplit(target).scheme in ("http", "https", "file"):
        return target
    if location and urlsplit(location).scheme in ("http", "https"):
        return urljoin(location, target)
    base = Path(location).parent if location else Path.cwd()
    return str((base / target).resolve())


def _fetch_problem(url: str, verify: bool | str) -> str:
    """Why `url` cannot be fetched, or "" when it can."""
    scheme = urlsplit(url).scheme
    if scheme in ("http", "https"):
        try:
            response = httpx.get(url, timeout=REF_FETCH_TIMEOUT_S, verify=verify, follow_redirects=True)
        except httpx.HTTPError as exc:
            return f"no answer ({type(exc).__name__}: {exc})"
        return "" if response.status_code == 200 else f"answered HTTP {response.status_code}"
    path = Path(unquote(urlsplit(url).path)) if scheme == "file" else Path(url)
    try:
        path.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})"
    return ""
