"""SEC-PAN-ECHO's scanner: full card numbers are found (and kept masked); ids and timestamps are not cards."""

from __future__ import annotations

import random

from paycert.gateways.pan_watch import PanWatch, card_numbers_in


def test_a_full_card_number_is_found_with_or_without_separators() -> None:
    assert card_numbers_in('{"card": {"number": "4111111111111111"}}') == {"411111******1111"}
    assert card_numbers_in("card 5555 5555 5555 4444 used") == {"555555******4444"}
    assert card_numbers_in("amex 3782-822463-10005") == {"378282******0005"}


def test_ids_timestamps_and_masked_numbers_are_not_card_numbers() -> None:
    assert card_numbers_in('{"ts": 1733526000123, "trackingId": "100000000042"}') == set()
    assert card_numbers_in('{"bin": "411111", "last4Digits": "1111", "masked": "411111******1111"}') == set()
    assert card_numbers_in("id 94111111111111111112") == set()  # glued into a longer run of digits


def test_a_known_test_card_is_found_even_if_it_fails_luhn() -> None:
    assert card_numbers_in("number 4000000000000003", known={"4000000000000003"}) == {"400000******0003"}


def test_sightings_keep_only_the_masked_number() -> None:
    watch = PanWatch()
    found = watch.look('{"number": "4111111111111111"}', url="https://gw/payments/1", label="status")

    assert [s.masked for s in found] == ["411111******1111"]
    assert "4111111111111111" not in repr(watch.sightings)


def test_digits_inside_a_hex_id_are_not_a_card_number() -> None:
    # 4111111111111111 is Luhn-valid; glued to hex letters it is part of an id, not a card number.
    assert card_numbers_in('{"id": "pay_a4111111111111111f", "ref": "x4111111111111111"}') == set()
    assert card_numbers_in('{"pan": "4111111111111111"}') == {"411111******1111"}


def test_random_hex_ids_never_look_like_card_numbers() -> None:
    # Seeded: with the scan that let letters touch a digit run, these 10 000 ids held 8 "card numbers".
    draw = random.Random(20261207)
    ids = " ".join(
        f'"pay_{draw.getrandbits(64):016x}" "sess_{draw.getrandbits(128):032x}"' for _ in range(5000)
    )

    assert card_numbers_in(ids) == set()
