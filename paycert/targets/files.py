"""Reading the files paycert is given (targets, profiles, specs) into data, or one line saying what is wrong.

A file that is not UTF-8, not YAML or not JSON is the user's to fix, so the message names the file and the
place as `file:line:column` (the form editors and compilers use) and fits on one line: the CLI shows one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from paycert.core.errors import PaycertError
from paycert.core.yaml_data import safe_load
from paycert.targets.yaml_lines import FileSyntaxError, decode_utf8, marked_problem


def read_text(path: Path, error: type[PaycertError], what: str) -> str:
    """The file as text; `what` names it in the message ("target file", "profile", "spec")."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    return decode(data, str(path), error, what)


def decode(data: bytes, where: str, error: type[PaycertError], what: str) -> str:
    """UTF-8 text, or an error naming the first byte that is not (the rule `paycert validate` uses too)."""
    try:
        return decode_utf8(data)
    except FileSyntaxError as exc:
        raise error(f"{what} {where}:{exc.mark.line}:{exc.mark.column}: {exc.message}") from None


def parse(text: str, where: str, error: type[PaycertError], what: str, *, as_json: bool = False) -> Any:
    """The data in `text`, YAML (the default) or JSON."""
    try:
        return json.loads(text) if as_json else safe_load(text)
    except json.JSONDecodeError as exc:
        raise error(f"{what} {where}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except yaml.MarkedYAMLError as exc:
        raise error(f"{what} {where}:{_yaml_problem(exc)}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML refuses (NUL, other controls); it has no mark
        line, column = _line_column(text.encode("utf-8"), len(text[: exc.position].encode("utf-8")))
        raise error(
            f"{what} {where}:{line}:{column}: not valid YAML: character #x{exc.character:04x} is not allowed"
        ) from None
    except yaml.YAMLError as exc:
        raise error(f"{what} {where}: not valid YAML: {_one_line(str(exc))}") from None
    except ValueError as exc:  # a scalar YAML cannot build, e.g. the date 2026-02-30
        raise error(f"{what} {where}: not valid YAML: {_one_line(str(exc))}") from None
    except RecursionError:
        raise error(f"{what} {where}: nested too deeply to read") from None


def read_yaml(path: Path, error: type[PaycertError], what: str) -> Any:
    return parse(read_text(path, error, what), str(path), error, what)


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    """`line:column: not valid YAML: problem (context at line:column)`, placed as `paycert validate` does."""
    mark, message = marked_problem(exc)
    return f"{mark.line}:{mark.column}: {message}"


def _line_column(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte `offset`."""
    before = data[:offset]
    line_start = before.rfind(b"\n") + 1
    return before.count(b"\n") + 1, len(before[line_start:].decode("utf-8", "replace")) + 1


def _one_line(text: str) -> str:
    return " ".join(text.split())
