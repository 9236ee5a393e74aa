"""YAML read by libyaml where PyYAML has it: the same data as PyYAML's own parser, and PyYAML's own errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from paycert.core import yaml_data
from paycert.targets.home import find_home

SPECS = sorted((find_home() / "specs").glob("**/*.yaml"))


def test_libyaml_parses_where_pyyaml_was_built_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # The speed is the point (issue 15): the pure-Python parser must not be what reads a good file.
    assert yaml_data.FAST is bool(getattr(yaml, "__with_libyaml__", False))
    if not yaml_data.FAST:
        pytest.skip("PyYAML without libyaml here: nothing to prove")

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("a good document went to PyYAML's pure-Python parser")

    monkeypatch.setattr(yaml, "safe_load", refuse)

    assert yaml_data.safe_load("a: [1, 2]\nb: {c: 2026-12-01}\n") == {
        "a": [1, 2],
        "b": {"c": __import__("datetime").date(2026, 12, 1)},
    }


@pytest.mark.parametrize("path", SPECS, ids=[str(p.relative_to(find_home())) for p in SPECS])
def test_every_spec_and_profile_reads_as_pyyaml_reads_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")

    assert yaml_data.safe_load(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: [1,\n",  # unclosed flow sequence
        "a: 1\n\x00b: 2\n",  # a character YAML refuses (libyaml's error has no position)
        "a: 1\n---\nb: 2\n",  # a second document
        "a: b: c\n",  # a mapping where a scalar was
        "key: 'unclosed\n",
        "\tindented: by a tab\n",
        "a: !!python/object:os.system x\n",  # a tag a safe loader does not construct
    ],
    ids=["unclosed list", "NUL", "two documents", "nested mapping", "open quote", "tab", "python tag"],
)
def test_a_broken_document_raises_what_pyyaml_raises(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(text)

    with pytest.raises(yaml.YAMLError) as raised:
        yaml_data.safe_load(text)

    assert type(raised.value) is type(expected.value)
    assert str(raised.value) == str(expected.value)


def test_a_text_read_again_gives_equal_data_that_no_other_reader_shares() -> None:
    text = (find_home() / "specs" / "gustaffo" / "openapi.yaml").read_text(encoding="utf-8")
    first = yaml_data.safe_load(text)
    first["paths"].clear()  # a reader that changes its copy

    again = yaml_data.safe_load(text)

    assert again == yaml.safe_load(text)
    assert again["paths"]
    assert again is not first


def test_data_marshal_cannot_hold_is_parsed_each_time() -> None:
    # A date (and the 2 KiB that make a text worth keeping): never served from the kept copies.
    text = "day: 2026-12-01\n" + "".join(f"k{i}: {'x' * 40}\n" for i in range(60))
    assert yaml_data.safe_load(text)["day"] == __import__("datetime").date(2026, 12, 1)
    assert text not in yaml_data._kept
    assert yaml_data.safe_load(text)["day"] == __import__("datetime").date(2026, 12, 1)
