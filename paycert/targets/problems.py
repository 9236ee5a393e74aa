"""Problems found in the files paycert is given, each placed at a file, line and column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from paycert.targets.yaml_lines import START, LocatedYaml, Mark


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong, where it is."""

    file: str
    line: int
    column: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {'warning: ' if self.warning else ''}{self.message}"


@dataclass
class Sink:
    """Problems of one file, placed at its nodes."""

    path: Path
    doc: LocatedYaml | None
    problems: list[Problem]

    def at(
        self, where: Sequence[str | int], message: str, *, key: bool = False, warning: bool = False
    ) -> None:
        mark = self.doc.mark(where, key=key) if self.doc is not None else START
        self.at_mark(mark, message, warning=warning)

    def at_mark(self, mark: Mark, message: str, *, warning: bool = False) -> None:
        self.problems.append(Problem(shown(self.path), mark.line, mark.column, message, warning))


def shown(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) if path.is_absolute() else str(path)
    except ValueError:
        return str(path)
