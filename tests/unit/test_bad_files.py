"""Files paycert is given that it cannot read: one line naming the file and, where there is one, the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from paycert.core.errors import SpecError, TargetError
from paycert.targets import ApiSpec, load_target

OPENAPI = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"name: caf\xe9\n", "target.yaml:1:10: not UTF-8 (byte 0xe9); save it as UTF-8"),
        (b"a: 1\nb: [1,\n", "target.yaml:3:1: not valid YAML: expected the node content"),
        (b"a: 1\n\x00b: 2\n", "target.yaml:2:1: not valid YAML: character #x0000 is not allowed"),
        (b"a: 1\n---\nb: 2\n", "target.yaml:2:1: not valid YAML: but found another document"),
        (b"- gateways\n", "invalid at (top)"),
    ],
    ids=["latin-1", "unclosed list", "NUL", "two documents", "a list"],
)
def test_a_target_file_that_cannot_be_read_is_one_line_with_its_place(
    content: bytes, words: str, tmp_path: Path
) -> None:
    path = tmp_path / "target.yaml"
    path.write_bytes(content)

    with pytest.raises(TargetError) as raised:
        load_target(path, environ={})

    message = str(raised.value)
    assert words in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        (
            "openapi.yaml",
            f"{OPENAPI}paths: /payments\n",
            "'paths' must map paths to operations, not be a string",
        ),
        ("openapi.yaml", f"{OPENAPI}paths: [/a]\n", "not be a list"),
        ("openapi.yaml", f"{OPENAPI}paths: {{/a: get}}\n", "paths//a must map methods to operations"),
        ("openapi.yaml", OPENAPI, "has no 'paths'"),
        ("openapi.yaml", "swagger: '2.0'\npaths: {}\n", "is Swagger 2.0; paycert reads OpenAPI 3"),
        ("openapi.yaml", "openapi: 2.5\npaths: {}\n", "not an OpenAPI 3 document ('openapi' is 2.5)"),
        ("openapi.yaml", "just a sentence\n", "not an OpenAPI document (it holds a string"),
        ("openapi.json", '{"openapi": "3.0.3",\n "paths": {]}', "openapi.json:2:12: not valid JSON"),
    ],
    ids=[
        "paths a string",
        "paths a list",
        "path item a string",
        "no paths",
        "swagger",
        "version 2.5",
        "prose",
        "json",
    ],
)
def test_a_spec_paycert_cannot_walk_is_named_for_what_it_is(
    name: str, content: str, words: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    with pytest.raises(SpecError, match=None) as raised:
        ApiSpec.from_location(path)

    assert words in str(raised.value)


def test_an_openapi_3_1_version_written_as_a_number_is_still_openapi_3(tmp_path: Path) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_text("openapi: 3.1\ninfo: {title: t, version: '1'}\npaths: {}\n", encoding="utf-8")

    assert ApiSpec.from_location(path).operations == {}
