"""A long-lived browser shopper (the experience suite shares one for the whole run): it outlives a Chromium
that went away, and a visit of the page a journey landed on goes on in that journey's tab, for real."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
import uvicorn

from paycert.shopper import BrowserShopper, Card, PageSpec, ShopperError
from tests.shopper import pages_app
from tests.shopper.conftest import PagesServer

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="Debian's chromium is not installed"),
]

SUCCESS = Card(pages_app.SUCCESS_CARD, "12", "2030", "123", "Ada Lovelace")


@pytest.fixture(scope="module")
def returning_site() -> Iterator[str]:
    """The pages app with a return URL that exists: its own page without a form (`/blank`)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(pages_app.create_app(f"{base}/blank"), log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the pages app did not start"
        assert time.monotonic() < deadline, "the pages app did not start in 10 s"
        time.sleep(0.02)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class Seen:
    """An observer keeping, of each page shown, its title and how many entries its tab's history has."""

    def __init__(self) -> None:
        self.pages: list[tuple[str, int, int | None]] = []

    def __call__(self, page: Page, label: str, response: Response | None) -> None:
        status = response.status if response is not None else None
        self.pages.append((page.title(), int(page.evaluate("history.length")), status))


def test_a_journey_after_chromium_went_away_runs_in_a_new_one(pages: PagesServer, pay_page: PageSpec) -> None:
    with BrowserShopper(None, timeout=5, viewport=(480, 360)) as driver:
        first = driver.pay(f"{pages.base_url}/start/r1", SUCCESS, pay_page, return_prefix=pages.return_url)
        gone = driver._browser
        assert gone is not None
        gone.close()  # as a crash would leave it: the driver still holds a browser that is not connected

        second = driver.pay(f"{pages.base_url}/start/r2", SUCCESS, pay_page, return_prefix=pages.return_url)

        assert first.return_query["status"] == second.return_query["status"] == "COMPLETED"
        assert driver._browser is not None
        assert driver._browser is not gone
        assert driver._browser.is_connected()


def test_visiting_where_a_journey_landed_goes_on_in_its_tab_to_the_real_page(
    returning_site: str, pay_page: PageSpec
) -> None:
    seen = Seen()
    with BrowserShopper(None, timeout=5, viewport=(480, 360), observer=seen) as driver:
        ended = driver.pay(
            f"{returning_site}/start/v1", SUCCESS, pay_page, return_prefix=f"{returning_site}/blank"
        )
        pages_of_the_journey = list(ended.pages)
        driver.visit(ended.final_url, "merchant return")
        driver.visit(f"{returning_site}/blank?another=page", "elsewhere")

    assert ended.landed
    first_page, returned, elsewhere = seen.pages[0], seen.pages[-2], seen.pages[-1]
    # The real return page (no longer answered inside the browser) in the tab the journey walked in, whose
    # history holds the journey's pages; another URL in a fresh tab, as new as the journey's first page was.
    assert returned[0] == elsewhere[0] == "Nothing here"
    assert returned[2] == elsewhere[2] == 200
    assert returned[1] > elsewhere[1] == first_page[1]
    # The journey's record is closed: the visit is not one of its pages.
    assert ended.pages == pages_of_the_journey


def test_visiting_where_a_journey_landed_really_requests_it(pages: PagesServer, pay_page: PageSpec) -> None:
    with BrowserShopper(None, timeout=5, viewport=(480, 360)) as driver:
        ended = driver.pay(f"{pages.base_url}/start/v2", SUCCESS, pay_page, return_prefix=pages.return_url)

        # Nobody listens at this test's return URL: answered inside the browser during the journey, it is
        # refused once the visit asks the network for it.
        with pytest.raises(ShopperError, match="ERR_CONNECTION_REFUSED"):
            driver.visit(ended.final_url, "merchant return")

    assert ended.landed


def test_drivers_of_one_thread_share_one_chromium_each_with_its_own_screen(
    pages: PagesServer, pay_page: PageSpec
) -> None:
    # In a thread of its own: drivers are shared per thread, and another test's long-lived driver in this one
    # would keep the process alive past the end checked here.
    widths: dict[str, list[int]] = {"wide": [], "narrow": []}
    checks: list[str] = []
    failures: list[BaseException] = []

    def width_of(name: str) -> Callable[[Page, str, Response | None], None]:
        return lambda page, label, response: widths[name].append(int(page.evaluate("window.innerWidth")))

    def two_drivers() -> None:
        wide = BrowserShopper(None, timeout=5, viewport=(800, 600), observer=width_of("wide"))
        narrow = BrowserShopper(None, timeout=5, viewport=(360, 640), observer=width_of("narrow"))
        try:
            wide.pay(f"{pages.base_url}/start/s1", SUCCESS, pay_page, return_prefix=pages.return_url)
            narrow.pay(f"{pages.base_url}/start/s2", SUCCESS, pay_page, return_prefix=pages.return_url)
            shared = wide._browser
            checks.append(f"one process: {shared is not None and narrow._browser is shared}")
            wide.close()  # one driver done: the other goes on in the same Chromium
            checks.append(f"alive after the first close: {shared is not None and shared.is_connected()}")
            again = narrow.pay(
                f"{pages.base_url}/start/s3", SUCCESS, pay_page, return_prefix=pages.return_url
            )
            checks.append(f"paid after the first close: {again.return_query['status']}")
            narrow.close()
            checks.append(f"alive after the last close: {shared is not None and shared.is_connected()}")
        except BaseException as exc:  # re-raised in the test's own thread
            failures.append(exc)
        finally:
            narrow.close()
            wide.close()

    thread = threading.Thread(target=two_drivers)
    thread.start()
    thread.join(timeout=120)

    assert not thread.is_alive()
    assert not failures, failures
    assert checks == [
        "one process: True",
        "alive after the first close: True",
        "paid after the first close: COMPLETED",
        "alive after the last close: False",  # closed with its last user
    ]
    assert set(widths["wide"]) == {800}
    assert set(widths["narrow"]) == {360}
