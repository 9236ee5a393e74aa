"""The CSS selector subset the HTTP driver understands, so profiles can name forms and buttons once for both
drivers (Chromium understands all of CSS).

Supported:
- type selectors and `*`: `form`, `button`
- `#id`, `.class`
- attribute selectors `[attr]`, `[attr=value]`, `[attr="value"]`, `[attr='value']`
- compounds of these: `form#pay`, `form[name=checkout]`, `button[name=action][value=pay]`
- descendant (`form#pay button`) and child (`form > button`) combinators
- selector lists: `button[type=submit], input[type=submit]`

Not supported (raises `UnsupportedSelectorError`, a `ShopperError`): pseudo-classes (`:first-child`), sibling combinators (`+`, `~`),
attribute operators other than `=` (`^=`, `*=`, ...).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from paycert.shopper.errors import UnsupportedSelectorError

_TOKEN = re.compile(
    r"""
    (?P<tag>\*|[A-Za-z][A-Za-z0-9-]*)
  | \#(?P<id>[A-Za-z0-9_-]+)
  | \.(?P<cls>[A-Za-z0-9_-]+)
  | \[\s*(?P<attr>[A-Za-z_:][A-Za-z0-9_:.-]*)\s*
        (?:=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[A-Za-z0-9_.:/-]+))\s*)?\]
    """,
    re.VERBOSE,
)


class Node(Protocol):
    """What a selector matches against: an element with its parent."""

    @property
    def tag(self) -> str: ...

    @property
    def attrs(self) -> Mapping[str, str]: ...

    @property
    def parent(self) -> Node | None: ...


@dataclass(frozen=True)
class Compound:
    tag: str | None
    attrs: tuple[tuple[str, str | None], ...]  # (name, required value or None for presence)
    classes: tuple[str, ...]

    def matches(self, node: Node) -> bool:
        if self.tag is not None and node.tag != self.tag:
            return False
        for name, value in self.attrs:
            if name not in node.attrs or (value is not None and node.attrs[name] != value):
                return False
        have = node.attrs.get("class", "").split()
        return all(cls in have for cls in self.classes)


@dataclass(frozen=True)
class Complex:
    """Compounds joined by combinators, right-most last: `parts[i]` relates to `parts[i+1]` by `joins[i]`."""

    parts: tuple[Compound, ...]
    joins: tuple[str, ...]  # " " descendant or ">" child

    def matches(self, node: Node) -> bool:
        return self._match(node, len(self.parts) - 1)

    def _match(self, node: Node, index: int) -> bool:
        if not self.parts[index].matches(node):
            return False
        if index == 0:
            return True
        parent = node.parent
        if self.joins[index - 1] == ">":
            return parent is not None and self._match(parent, index - 1)
        while parent is not None:
            if self._match(parent, index - 1):
                return True
            parent = parent.parent
        return False


@dataclass(frozen=True)
class Selector:
    text: str
    alternatives: tuple[Complex, ...]

    def matches(self, node: Node) -> bool:
        return any(alternative.matches(node) for alternative in self.alternatives)


def _compound(text: str, whole: str) -> Compound:
    tag: str | None = None
    attrs: list[tuple[str, str | None]] = []
    classes: list[str] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or (match.group("tag") and position != 0):
            raise UnsupportedSelectorError(f"unsupported CSS selector {whole!r} (near {text[position:]!r})")
        if match.group("tag"):
            tag = None if match.group("tag") == "*" else match.group("tag").lower()
        elif match.group("id"):
            attrs.append(("id", match.group("id")))
        elif match.group("cls"):
            classes.append(match.group("cls"))
        else:
            value = next((v for v in match.group("dq", "sq", "bare") if v is not None), None)
            attrs.append((match.group("attr").lower(), value))
        position = match.end()
    return Compound(tag, tuple(attrs), tuple(classes))


def _bracket_end(text: str, start: int, whole: str) -> int:
    quote = ""
    for index in range(start + 1, len(text)):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "]":
            return index
    raise UnsupportedSelectorError(f"unsupported CSS selector {whole!r} (unclosed '[')")


def _complex(text: str, whole: str) -> Complex:
    """Split one selector on its combinators (outside brackets): whitespace is a descendant, ">" a child."""
    parts: list[Compound] = []
    joins: list[str] = []
    current = ""
    pending: str | None = None
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace() or char == ">":
            if current:
                parts.append(_compound(current, whole))
                current = ""
            if char == ">":
                if not parts:
                    raise UnsupportedSelectorError(f"unsupported CSS selector {whole!r}")
                pending = ">"
            elif parts and pending is None:
                pending = " "
            index += 1
            continue
        if not current and parts:
            if pending is None:
                raise UnsupportedSelectorError(f"unsupported CSS selector {whole!r}")
            joins.append(pending)
            pending = None
        if char == "[":
            end = _bracket_end(text, index, whole)
            current += text[index : end + 1]
            index = end + 1
        else:
            current += char
            index += 1
    if current:
        parts.append(_compound(current, whole))
    if not parts or pending == ">":
        raise UnsupportedSelectorError(f"unsupported CSS selector {whole!r}")
    return Complex(tuple(parts), tuple(joins))


@functools.lru_cache(maxsize=256)  # profiles name a handful of selectors, matched on every element
def parse(text: str) -> Selector:
    """Parse a selector of the supported subset; the error names what is not supported."""
    alternatives = tuple(_complex(part, text) for part in _split_list(text))
    if not alternatives:
        raise UnsupportedSelectorError(f"empty CSS selector {text!r}")
    return Selector(text, alternatives)


def _split_list(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    if any(not part.strip() for part in parts):
        raise UnsupportedSelectorError(f"unsupported CSS selector {text!r}")
    return parts
