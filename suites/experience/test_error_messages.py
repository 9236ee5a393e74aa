"""002 §6.2: a declined card and a failed 3-D Secure challenge show the shopper a clear message.

The shopper pays in Chromium; the page they end on (the gateway's own result page, or the merchant's return
page when the gateway sends them straight back) must say in words what happened: text visible on the page in
the wording the profile declares (`experience.declined_message`, `experience.challenge_failed_message`) or a
generic one, not an empty page and not only a status code.
"""

from __future__ import annotations

import pytest

from paycert.plugin.experience import Experience


@pytest.mark.criterion("UX-ERRORS")
def test_a_declined_card_tells_the_shopper_why(experience: Experience) -> None:
    page = experience.page_after_a_declined_card()

    wording = experience.wording("declined_message")
    assert page.message(wording), (
        f"after a declined card the shopper reads no message on {page.url} "
        f"(expected /{wording.pattern}/ in a sentence); the page says: {page.text.strip()[:160]!r}"
    )


@pytest.mark.criterion("UX-ERRORS")
def test_a_failed_3d_secure_challenge_tells_the_shopper_why(experience: Experience) -> None:
    page = experience.page_after_a_failed_challenge()

    wording = experience.wording("challenge_failed_message")
    assert page.message(wording), (
        f"after a failed 3-D Secure challenge the shopper reads no message on {page.url} "
        f"(expected /{wording.pattern}/ in a sentence); the page says: {page.text.strip()[:160]!r}"
    )
