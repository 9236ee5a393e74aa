"""What counts as a clear message to the shopper (UX-ERRORS): words that say what happened, not a code."""

from __future__ import annotations

import pytest

from paycert.shopper.messages import FALLBACK, compile_wording, find_message

GENERIC = compile_wording(None)


@pytest.mark.parametrize(
    "text",
    [
        "Payment not completed\nYour card was declined. Please try another card or contact your bank.",
        "We could not confirm it was you. No money was taken, please try again.",
        "Le paiement a été refusé par votre banque.",
        "Your payment failed: the bank did not authorize it.",
    ],
)
def test_a_sentence_saying_what_happened_is_a_message(text: str) -> None:
    assert find_message(text, GENERIC) is not None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Your order\nOrder PC-1A2B: FAILED\npaycert reference sandbox: test cards only.",
        "HTTP 402 DECLINED",
        "Thank you\nYour order is confirmed.",
        "Declined",
    ],
)
def test_an_empty_page_a_status_code_or_a_bare_word_is_not(text: str) -> None:
    assert find_message(text, GENERIC) is None


def test_the_profile_wording_replaces_the_generic_one() -> None:
    wording = compile_wording(r"Zahlung abgelehnt")

    assert (
        find_message("Ihre Zahlung wurde leider abgelehnt, bitte versuchen Sie es erneut.", wording) is None
    )
    assert find_message("Zahlung abgelehnt: bitte eine andere Karte verwenden.", wording) is not None
    assert compile_wording("").pattern == FALLBACK


def test_a_bad_wording_is_a_one_line_error() -> None:
    with pytest.raises(ValueError, match="not a valid regular expression"):
        compile_wording("declin(")
