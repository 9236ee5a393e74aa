"""A profile's OpenAPI document read for `paycert validate`: located, checked against OpenAPI, offline.

`ApiSpec` (spec.py) is what runs use; here the same document is read with its nodes' positions, so a
problem in the spec is named at its line too, and nothing is fetched: a `$ref` to a URL leaves the
OpenAPI check undone (with a warning) rather than reaching the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paycert.targets.problems import Problem, Sink, shown
from paycert.targets.schema_walk import SchemaWalker, Walk
from paycert.targets.spec import ApiSpec, Operation
from paycert.targets.yaml_lines import FileSyntaxError, LocatedYaml, load, load_json, read

# A spec broken everywhere (a 2.0 document read as 3.1) would bury the profile's own problems.
_MAX_SPEC_PROBLEMS = 20
_BODY_MEDIA = ("json", "xml")


@dataclass(frozen=True)
class SpecFile:
    path: Path
    document: dict[str, Any] = field(repr=False)
    api: ApiSpec = field(repr=False)
    walker: SchemaWalker = field(repr=False)

    @property
    def operations(self) -> dict[str, Operation]:
        return self.api.operations

    def success_bodies(self, operation_id: str) -> list[tuple[str, Any]]:
        """(label, schema) of every 2xx body the spec documents for the operation (JSON or XML)."""
        op = self.operations[operation_id]
        found: list[tuple[str, Any]] = []
        responses = op.raw.get("responses")
        for status, documented in (responses or {}).items() if isinstance(responses, dict) else []:
            if not str(status).startswith("2"):
                continue
            response = documented
            if isinstance(documented, dict) and isinstance(documented.get("$ref"), str):
                response = self.walker.deref(documented["$ref"])
            content = response.get("content") if isinstance(response, dict) else None
            for media, entry in (content or {}).items() if isinstance(content, dict) else []:
                base = str(media).split(";", maxsplit=1)[0].strip().lower()
                if isinstance(entry, dict) and "schema" in entry and base.endswith(_BODY_MEDIA):
                    found.append((f"{status} {base}", entry["schema"]))
        return found

    def walk_response(self, operation_id: str, pointer: str) -> tuple[Walk, str] | None:
        """Where `pointer` ends in the operation's success bodies (in any of them), and which bodies were
        tried; None when the spec documents no success body to check against."""
        bodies = self.success_bodies(operation_id)
        if not bodies:
            return None
        walks = [(label, self.walker.walk(schema, pointer)) for label, schema in bodies]
        reached = [w for _, w in walks if w.ok]
        labels = ", ".join(label for label, _ in walks)
        if reached:
            return Walk(ok=True, schemas=tuple(s for w in reached for s in w.schemas)), labels
        return walks[0][1], labels


def load_spec_file(path: Path, problems: list[Problem]) -> SpecFile | None:
    """The spec, or None with its problems added (it cannot be read, or is not an OpenAPI 3 document)."""
    located: LocatedYaml | None = None
    try:
        text = read(path)
        if path.suffix == ".json":
            data = load_json(text)
        else:
            located = load(text)
            data = located.data
    except OSError:
        return None  # the profile names the missing file at its `spec` field
    except FileSyntaxError as exc:
        problems.append(Problem(shown(path), exc.mark.line, exc.mark.column, exc.message))
        return None
    sink = Sink(path, located, problems)
    if not isinstance(data, dict):
        sink.at([], "not an OpenAPI document: it holds no mapping")
        return None
    version = str(data.get("openapi", ""))
    if not version.startswith("3."):
        said = f"'openapi' is {data['openapi']!r}" if "openapi" in data else "there is no 'openapi' field"
        sink.at(["openapi"], f"not an OpenAPI 3 document ({said})")
        return None
    paths = data.get("paths")
    if not isinstance(paths, dict) or not all(isinstance(item, dict) for item in paths.values()):
        sink.at(["paths"], "'paths' must map each path to its operations")
        return None
    _openapi_problems(sink, data, version)
    return SpecFile(path, data, ApiSpec(data, str(path)), SchemaWalker(data))


def _openapi_problems(sink: Sink, document: dict[str, Any], version: str) -> None:
    if any(ref.startswith(("http://", "https://", "//")) for ref in _refs(document)):
        sink.at([], "the spec refers to URLs: its OpenAPI check is left to a run", warning=True)
        return
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    kind = OpenAPIV30SpecValidator if version.startswith("3.0") else OpenAPIV31SpecValidator
    base = sink.path.resolve().as_uri()
    for count, error in enumerate(kind(document, base_uri=base).iter_errors()):
        if count == _MAX_SPEC_PROBLEMS:
            sink.at([], "more OpenAPI problems follow; fix these first", warning=True)
            break
        path = list(getattr(error, "absolute_path", []) or [])
        where = "/".join(str(p) for p in path) or "(top)"
        sink.at(path, f"not valid OpenAPI {version} at {where}: {' '.join(str(error.message).split())}")


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                found.append(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
