"""YAML read with where every value is, so a problem can be named as `file:line:column`.

PyYAML's data has no positions; its node tree does. A document is composed once for the nodes and loaded
once for the data (loading flattens `<<` merges into the nodes it is given, so it gets its own parse), and a
path of keys and indexes (a JSON pointer's parts, a JSON Schema error's path) is walked down the nodes.
Lines and columns are 1-based, as editors and compilers show them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# libyaml when present: a large OpenAPI document composes several times faster.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Mark:
    line: int
    column: int


START = Mark(1, 1)


class FileSyntaxError(Exception):
    """A file that cannot be read as YAML (or JSON), with where the reader stopped."""

    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


@dataclass(frozen=True)
class Duplicate:
    """A key written twice in one mapping: YAML keeps the last silently, so the first is lost."""

    key: str
    first: Mark
    again: Mark


@dataclass(frozen=True)
class LocatedYaml:
    """A YAML document's data and the nodes it came from."""

    data: Any
    root: yaml.Node | None
    duplicates: list[Duplicate] = field(default_factory=list)

    def mark(self, path: Sequence[str | int], *, key: bool = False) -> Mark:
        """Where the value at `path` starts (its key with `key=True`); the deepest part that exists when
        the path goes further than the document does (a missing key is reported at its parent)."""
        node = self.root
        if node is None:
            return START
        found = _start(node)
        for part in path:
            pair = _child(node, part)
            if pair is None:
                return found
            key_node, node = pair
            found = _start(key_node if key and key_node is not None else node)
        return found

    def scalars(self, path: Sequence[str | int]) -> Iterator[tuple[str, Mark]]:
        """The text of every scalar at or under `path` and where it starts (to place template problems)."""
        node = self.root
        for part in path:
            pair = _child(node, part) if node is not None else None
            if pair is None:
                return
            node = pair[1]
        if node is not None:
            yield from _scalars(node)


def load(text: str) -> LocatedYaml:
    """The document in `text`; FileSyntaxError when it is not YAML."""
    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader: no arbitrary objects)
    except yaml.MarkedYAMLError as exc:
        raise FileSyntaxError(*_marked_problem(exc)) from None
    except yaml.reader.ReaderError as exc:  # a character YAML refuses; it carries an offset, not a mark
        raise FileSyntaxError(
            _offset_mark(text, exc.position),
            f"not valid YAML: character #x{exc.character:04x} is not allowed",
        ) from None
    except yaml.YAMLError as exc:  # libyaml's reader errors have neither mark nor offset
        raise FileSyntaxError(START, " ".join(str(exc).split())) from None
    except RecursionError:
        raise FileSyntaxError(START, "nested too deeply to read") from None
    return LocatedYaml(data, root, list(_duplicates(root)) if root is not None else [])


def load_json(text: str) -> Any:
    """JSON data; FileSyntaxError (with the decoder's line and column) when it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileSyntaxError(Mark(exc.lineno, exc.colno), f"not valid JSON: {exc.msg}") from None


def read(path: Path) -> str:
    """The file's text; FileSyntaxError at the first byte that is not UTF-8."""
    return decode_utf8(path.read_bytes())


def decode_utf8(data: bytes) -> str:
    """UTF-8 text, or FileSyntaxError at the first byte that is not (paycert never guesses an encoding)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line_start = before.rfind(b"\n") + 1
        mark = Mark(before.count(b"\n") + 1, len(before[line_start:].decode("utf-8", "replace")) + 1)
        raise FileSyntaxError(mark, f"not UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8") from None


def marked_problem(exc: yaml.MarkedYAMLError) -> tuple[Mark, str]:
    """Where PyYAML stopped (1-based) and what it says, on one line, with where the construct began."""
    return _marked_problem(exc)


def _marked_problem(exc: yaml.MarkedYAMLError) -> tuple[Mark, str]:
    mark = exc.problem_mark or exc.context_mark
    where = Mark(mark.line + 1, mark.column + 1) if mark is not None else START
    problem = " ".join((exc.problem or exc.context or "cannot be parsed").split())
    if exc.context and exc.problem and exc.context_mark is not None:
        started = exc.context_mark
        problem += f" ({' '.join(exc.context.split())} at {started.line + 1}:{started.column + 1})"
    return where, f"not valid YAML: {problem}"


def _offset_mark(text: str, offset: int) -> Mark:
    before = text[:offset]
    return Mark(before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


def _start(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _key_matches(key_node: yaml.Node, part: str | int) -> bool:
    if not isinstance(key_node, yaml.ScalarNode):
        return False
    if key_node.value == str(part):
        return True
    # A key YAML reads as something else than its text (`on` is True, `1` is 1): compare what it reads as.
    try:
        constructed = yaml.constructor.SafeConstructor().construct_object(key_node)
    except yaml.YAMLError:
        return False
    return bool(constructed == part or str(constructed) == str(part))


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    """(key node, value node) of `part` in a mapping (merges included) or (None, item) in a sequence."""
    if isinstance(node, yaml.SequenceNode):
        index = part if isinstance(part, int) else int(part) if str(part).isdigit() else -1
        return (None, node.value[index]) if 0 <= index < len(node.value) else None
    if not isinstance(node, yaml.MappingNode):
        return None
    merged: list[yaml.Node] = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            merged.extend(value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node])
        elif _key_matches(key_node, part):
            return key_node, value_node
    for source in merged:  # explicit keys win over merged ones, as YAML says
        found = _child(source, part)
        if found is not None:
            return found
    return None


def _scalars(node: yaml.Node) -> Iterator[tuple[str, Mark]]:
    if isinstance(node, yaml.ScalarNode):
        yield str(node.value), _start(node)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalars(item)
    elif isinstance(node, yaml.MappingNode):
        for _, value_node in _pairs(node):
            yield from _scalars(value_node)


def _pairs(node: yaml.MappingNode) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    """The mapping's pairs, explicit ones first, then those merged in with `<<`."""
    merged: list[yaml.Node] = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            merged.extend(value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node])
        else:
            yield key_node, value_node
    for source in merged:
        if isinstance(source, yaml.MappingNode):
            yield from _pairs(source)


def _duplicates(root: yaml.Node) -> Iterator[Duplicate]:
    seen_nodes: set[int] = set()  # an anchor's node is reached again through each alias
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, Mark] = {}
            for key_node, value_node in node.value:
                stack.append(value_node)
                if key_node.tag == _MERGE or not isinstance(key_node, yaml.ScalarNode):
                    continue
                if key_node.value in first:
                    yield Duplicate(key_node.value, first[key_node.value], _start(key_node))
                else:
                    first[key_node.value] = _start(key_node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
