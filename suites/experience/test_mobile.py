"""002 §6.1: the hosted payment page and the merchant's pages work on a phone.

In Chromium at 375 px wide (always a real browser, whatever `--browser` says): the page does not scroll
sideways, every tap target is at least 44x44 px, every text at least 12 px; a screenshot of each page is the
evidence. The gateway's pages are its hosted payment page and its 3-D Secure page (where its profile has
them); the merchant's are the pages its shopper comes back to.
"""

from __future__ import annotations

import pytest

from paycert.plugin.experience import Experience, MerchantPages


@pytest.mark.criterion("UX-MOBILE")
def test_the_hosted_payment_page_fits_a_phone(experience: Experience) -> None:
    pages = experience.hosted_pages()

    assert pages, "the shopper met none of the gateway's pages on the way to paying"
    misfits = [page.summary() for page in pages if not page.layout.fits]
    assert not misfits, " | ".join(misfits)


@pytest.mark.parametrize("subject", ["merchant"])
@pytest.mark.criterion("UX-MOBILE")
def test_the_merchants_pages_fit_a_phone(merchant_pages: MerchantPages, subject: str) -> None:
    pages = merchant_pages.return_pages()

    misfits = [page.summary() for page in pages if not page.layout.fits]
    assert not misfits, f"{subject}: " + " | ".join(misfits)
