"""A real hosted-page server on loopback for the shopper tests, and a return URL on a port nobody listens on
(a driver that requested it would fail with "connection refused")."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from paycert.shopper import BrowserShopper, PageSpec
from tests.shopper.pages_app import create_app


@dataclass(frozen=True)
class PagesServer:
    base_url: str
    return_url: str
    submissions: dict[str, list[tuple[str, str]]]


@pytest.fixture(scope="session")
def pages() -> Iterator[PagesServer]:
    # Bound but not listening: connections are refused, and no other process can take the port meanwhile.
    closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    closed.bind(("127.0.0.1", 0))
    app = create_app(f"http://127.0.0.1:{closed.getsockname()[1]}/merchant/return")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the pages app did not start"
        assert time.monotonic() < deadline, "the pages app did not start in 10 s"
        time.sleep(0.02)
    try:
        yield PagesServer(
            f"http://127.0.0.1:{sock.getsockname()[1]}",
            f"http://127.0.0.1:{closed.getsockname()[1]}/merchant/return",
            app.state.submissions,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        closed.close()


@pytest.fixture
def pay_page() -> PageSpec:
    """The profile `shopper` section of the test app's main page, as a gateway profile would write it."""
    return PageSpec.from_profile(
        {
            "kind": "hosted-page",
            "entry": "redirect_url",
            "form": "form#payform",
            "fields": {
                "cardNumber": "{card.number}",
                "expiry": "{card.expiry}",
                "cvc": "{card.cvv}",
                "holder": "{card.holder}",
            },
            "submit": "button[name=action][value=pay]",
            "cancel": "button[name=action][value=cancel]",
        }
    )


@pytest.fixture
def split_page() -> PageSpec:
    """The second layout: separate expiry fields, a form found by name, buttons outside it found by id."""
    return PageSpec.from_profile(
        {
            "kind": "hosted-page",
            "form": "form[name=checkout]",
            "fields": {
                "pan": "{card.number}",
                "mm": "{card.expiry_month}",
                "yyyy": "{card.expiry_year}",
                "csc": "{card.cvv}",
            },
            "submit": "#paybtn",
            "cancel": "#back",
        }
    )


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserShopper]:
    """One Chromium for every browser test (it takes a second or two to start); screenshots in a temp dir."""
    shots: Path = tmp_path_factory.mktemp("screenshots")
    # A small viewport: quicker to screenshot and to decode in test_screenshots_never_show_the_card.
    with BrowserShopper(shots, timeout=5, viewport=(480, 360)) as driver:
        yield driver
