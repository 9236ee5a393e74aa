"""Profile templates fill from the run context and keep types."""

from __future__ import annotations

import pytest

from paycert.core import ProfileError
from paycert.targets.templates import fill, placeholders


def test_a_whole_placeholder_keeps_its_type_and_strings_are_formatted() -> None:
    context = {"amount": 10.5, "reference": "R1", "card": {"number": "4111"}}
    body = {"amount": "{amount}", "ref": "order {reference}", "pan": "{card.number}", "fixed": 3}

    assert fill(body, context) == {"amount": 10.5, "ref": "order R1", "pan": "4111", "fixed": 3}


def test_a_missing_optional_value_drops_its_key() -> None:
    assert fill({"notify": "{notification_url}", "a": 1}, {"notification_url": None}) == {"a": 1}


def test_an_unknown_placeholder_is_a_profile_error() -> None:
    with pytest.raises(ProfileError, match="nothing named 'nope'"):
        fill("x {nope}", {})


def test_placeholders_are_listed() -> None:
    assert placeholders({"a": ["{x}", "{y.z} and {x}"]}) == {"x", "y.z"}
