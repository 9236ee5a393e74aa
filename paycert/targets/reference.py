"""The profile reference (docs/profile-reference.md), generated from specs/profile.schema.json.

Every field the schema allows is listed with its type, its meaning (the schema's `description`) and an
example from a built-in profile when one uses it. The document is generated, never edited: a test compares
the committed file with what this module writes, so the reference cannot drift from the schema.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from paycert.core.yaml_data import safe_load
from paycert.targets.home import specs_dir

REFERENCE = Path("docs") / "profile-reference.md"
COMMAND = "paycert validate --reference > docs/profile-reference.md"
_EXAMPLE_WIDTH = 90
_NAME = "<name>"
_ITEM = "[]"


@dataclass(frozen=True)
class Field:
    path: tuple[str, ...]
    type: str
    required: bool
    meaning: str
    example: tuple[str, str] | None  # (profile id, the value as YAML)


def reference_text(specs: Path | None = None) -> str:
    """The reference for the schema and built-in profiles under `specs` (paycert's own by default)."""
    where = specs or specs_dir()
    schema = json.loads((where / "profile.schema.json").read_text(encoding="utf-8"))
    profiles = {
        path.parent.name: safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(where.glob("*/profile.yaml"))
    }
    return render(schema, profiles)


def render(schema: dict[str, Any], profiles: dict[str, Any]) -> str:
    walker = _Fields(schema, profiles)
    sections = walker.top_level()
    out = [
        "# Profile reference",
        "",
        f"Generated from [`specs/profile.schema.json`](../specs/profile.schema.json) by `{COMMAND}`:",
        "do not edit it by hand (a test regenerates it and compares). How to write a profile step by step:",
        "[certify-your-gateway.md](certify-your-gateway.md). Check one with `paycert validate PROFILE`.",
        "",
        " ".join(str(schema.get("description", "")).split()),
        "",
        "Field paths use `.` between names, `<name>` for a key you choose (a vendor status, a card name, an",
        "operation) and `[]` for the items of a list. Examples are from the built-in profiles",
        "(`specs/<gateway>/profile.yaml`).",
        "",
        "## Value types",
        "",
        "| type | meaning |",
        "|---|---|",
    ]
    for name, definition in schema.get("$defs", {}).items():
        if not _is_section(definition):
            meaning = f"{_type(definition, schema)}. {_description(definition)}".strip()
            out.append(f"| {_cell(_type({'$ref': f'#/$defs/{name}'}, schema))} | {_cell(meaning)} |")
    out += ["", "## Top level", "", *_table([fields[0] for _, fields in sections])]
    for name, fields in sections:
        if len(fields) > 1:
            out += ["", f"## `{name}`", "", *_table(fields[1:])]
    for name, definition in schema.get("$defs", {}).items():
        if _is_section(definition):
            used = " and ".join(f"`{_path(p)}`" for p in walker.uses.get(name, []))
            intro = " ".join(p for p in (_description(definition), f"Used by {used}." if used else "") if p)
            out += ["", f"## {name}", "", *([intro, ""] if intro else []), *_table(walker.definition(name))]
    return "\n".join(out).rstrip() + "\n"


def _table(fields: list[Field]) -> list[str]:
    rows = ["| field | type | meaning | example |", "|---|---|---|---|"]
    for field in fields:
        kind = field.type + (", **required**" if field.required else "")
        example = f"`{_code(field.example[1])}` ({field.example[0]})" if field.example else ""
        rows.append(f"| `{_code(_path(field.path))}` | {_cell(kind)} | {_cell(field.meaning)} | {example} |")
    return rows


def _path(parts: tuple[str, ...]) -> str:
    return ".".join(parts).replace("." + _ITEM, _ITEM)


class _Fields:
    def __init__(self, schema: dict[str, Any], profiles: dict[str, Any]) -> None:
        self.schema = schema
        self.profiles = profiles
        self.uses: dict[str, list[tuple[str, ...]]] = {}
        self._base: list[tuple[str, ...]] = [()]  # where a definition's fields are looked for examples

    def top_level(self) -> list[tuple[str, list[Field]]]:
        required = set(self.schema.get("required", []))
        sections = []
        for name, node in self.schema.get("properties", {}).items():
            fields: list[Field] = []
            self._walk(node, (name,), name in required, fields)
            sections.append((name, fields))
        return sections

    def definition(self, name: str) -> list[Field]:
        self._base = self.uses.get(name, [()])
        node = self.schema["$defs"][name]
        fields: list[Field] = []
        required = set(node.get("required", []))
        for child, sub in node.get("properties", {}).items():
            self._walk(sub, (f"<{name}>", child), child in required, fields)
        self._base = [()]
        return fields

    def _walk(self, node: Any, path: tuple[str, ...], required: bool, out: list[Field]) -> None:
        if not isinstance(node, dict):
            return
        meaning = _description(node)
        out.append(Field(path, _type(node, self.schema), required, meaning, self._example(node, path)))
        section = _section_ref(node, self.schema)
        if section is not None:
            self.uses.setdefault(section, []).append(path)
            return
        needed = set(node.get("required", []))
        for child, sub in node.get("properties", {}).items():
            self._walk(sub, (*path, child), child in needed, out)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and (_has_fields(extra, self.schema) or _section_ref(extra, self.schema)):
            self._walk(extra, (*path, _NAME), False, out)
        items = node.get("items")
        if isinstance(items, dict) and _has_fields(items, self.schema):
            self._walk(items, (*path, _ITEM), False, out)

    def _example(self, node: dict[str, Any], path: tuple[str, ...]) -> tuple[str, str] | None:
        extra = node.get("additionalProperties")
        if (
            _has_fields(node, self.schema)
            or _section_ref(node, self.schema)
            or (
                isinstance(extra, dict)
                and (_has_fields(extra, self.schema) or _section_ref(extra, self.schema))
            )
        ):
            return None  # its fields have their own examples
        relative = path[1:] if path[0].startswith("<") else path
        for gateway, profile in self.profiles.items():
            for base in self._base:
                for value in _values(profile, (*base, *relative)):
                    return gateway, _yaml(value)
        return None


def _values(data: Any, path: tuple[str, ...]) -> list[Any]:
    """Every value at `path` (`<name>` any key, `[]` any item), in document order."""
    if not path:
        return [data]
    head, rest = path[0], path[1:]
    if head == _NAME and isinstance(data, dict):
        return [v for item in data.values() for v in _values(item, rest)]
    if head == _ITEM and isinstance(data, list):
        return [v for item in data for v in _values(item, rest)]
    if isinstance(data, dict) and head in data:
        return _values(data[head], rest)
    return []


def _yaml(value: Any) -> str:
    if isinstance(value, str):
        text = " ".join(value.split())
    else:
        text = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False).strip()
        text = text.removesuffix("\n...").strip()
    return text if len(text) <= _EXAMPLE_WIDTH else text[: _EXAMPLE_WIDTH - 1].rstrip() + "…"


def _ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return ref.removeprefix("#/$defs/")
    return None


def _resolved(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    name = _ref_name(node)
    if name is None:
        return node
    definition: dict[str, Any] = schema.get("$defs", {}).get(name, {})
    return {**definition, **{k: v for k, v in node.items() if k != "$ref"}}


def _is_section(definition: Any) -> bool:
    """A definition with fields of its own gets its own section; a value type is explained inline."""
    return isinstance(definition, dict) and isinstance(definition.get("properties"), dict)


def _section_ref(node: dict[str, Any], schema: dict[str, Any]) -> str | None:
    name = _ref_name(node)
    return name if name is not None and _is_section(schema.get("$defs", {}).get(name)) else None


def _has_fields(node: dict[str, Any], schema: dict[str, Any]) -> bool:
    return _section_ref(node, schema) is None and isinstance(_resolved(node, schema).get("properties"), dict)


def _type(node: dict[str, Any], schema: dict[str, Any]) -> str:
    name = _ref_name(node)
    if name is not None:
        if _is_section(schema.get("$defs", {}).get(name)):
            return f"[{name}](#{name})"
        return {"pointer": "JSON pointer", "state": "canonical state"}.get(name, name)
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    kind = node.get("type")
    if kind == "array":
        items = node.get("items")
        return f"list of {_type(items, schema)}" if isinstance(items, dict) else "list"
    if kind == "object" and not isinstance(node.get("properties"), dict):
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return f"map of name → {_type(extra, schema)}"
        return "object"
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    return str(kind) if kind else "any"


def _description(node: dict[str, Any]) -> str:
    return " ".join(str(node.get("description", "")).split())


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")
