"""The phone layout measurement (UX-MOBILE) against small pages served on loopback, in Debian's Chromium."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from paycert.shopper import BrowserShopper
from paycert.shopper.mobile import PHONE, Layout, PageSeen, PhoneCheck

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="Debian's chromium is not installed"),
]

HEAD = '<meta name="viewport" content="width=device-width, initial-scale=1"><style>{}</style>'
FITTING = """
body { font: 16px sans-serif; margin: 0; padding: 0 1rem; }
input, button { display: block; width: 100%; min-height: 44px; font-size: 16px; box-sizing: border-box; }
label { display: block; min-height: 44px; }
"""
PAGES = {
    "fits": HEAD.format(FITTING)
    + '<h1>Pay</h1><p>Amount 10.00 EUR</p><label for="n">Card number</label><input id="n" name="n">'
    + '<button id="pay">Pay</button>',
    "wide": HEAD.format(FITTING + "main { width: 960px; }") + "<main><p>Laid out for a desktop</p></main>",
    "small-button": HEAD.format(FITTING + "#go { height: 30px; min-height: 0; }")
    + '<p>Almost right</p><button id="go">Go</button>',
    "small-text": HEAD.format(FITTING + "#fine { font-size: 10px; }")
    + '<p>Readable</p><p id="fine">the small print</p>',
    "no-viewport": "<style>body { font: 16px sans-serif; }</style><p>No viewport tag at all</p>",
}


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    app = FastAPI()

    @app.get("/{name}", response_class=HTMLResponse)
    def page(name: str) -> HTMLResponse:
        return HTMLResponse(f"<!doctype html><html><head>{PAGES[name]}</body></html>".replace("</head>", ""))

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the test site did not start in 10 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def phone() -> Iterator[BrowserShopper]:
    with BrowserShopper(None, device=PHONE, timeout=5) as driver:
        yield driver


def look(phone: BrowserShopper, site: str, name: str, shots: Path | None = None) -> PageSeen:
    check = PhoneCheck(shots, name)
    phone.observer = check
    phone.visit(f"{site}/{name}", "page")
    assert len(check.seen) == 1
    return check.seen[0]


def test_a_page_made_for_a_phone_fits(phone: BrowserShopper, site: str, tmp_path: Path) -> None:
    seen = look(phone, site, "fits", tmp_path)

    assert seen.layout.fits, seen.layout.summary()
    assert seen.layout.client_width == PHONE.width
    assert seen.layout.targets == 3  # the label, the input, the button
    assert seen.status == 200
    assert seen.screenshot is not None
    assert seen.screenshot.read_bytes().startswith(b"\x89PNG")


def test_a_960_px_page_scrolls_sideways(phone: BrowserShopper, site: str) -> None:
    layout = look(phone, site, "wide").layout

    assert [p.kind for p in layout.problems] == ["scroll"]
    assert "scrolls sideways" in layout.summary()
    assert "on a 375 px screen" in layout.summary()
    assert layout.scroll_width >= 960


def test_a_30_px_button_is_too_small_to_tap(phone: BrowserShopper, site: str) -> None:
    layout = look(phone, site, "small-button").layout

    assert [(p.kind, p.element) for p in layout.problems] == [("tap-target", 'button#go "Go"')]
    assert "x30 px, under 44x44" in layout.summary()


def test_10_px_text_is_too_small_to_read(phone: BrowserShopper, site: str) -> None:
    layout = look(phone, site, "small-text").layout

    assert [(p.kind, p.element) for p in layout.problems] == [("text", 'p#fine "the small print"')]
    assert "text 10 px, under 12 px" in layout.summary()


def test_a_page_without_a_viewport_tag_is_shown_zoomed_out(phone: BrowserShopper, site: str) -> None:
    layout = look(phone, site, "no-viewport").layout

    assert not layout.fits
    assert "zoomed out" in layout.summary()
    # 16 px of CSS on a page zoomed out to fit 980 px is about 6 px on the phone's screen.
    assert any(p.kind == "text" for p in layout.problems)


def test_the_summary_names_a_few_culprits_and_counts_the_rest() -> None:
    raw = {
        "scrollWidth": 375,
        "clientWidth": 375,
        "scale": 1,
        "targets": [{"element": f"a#l{i}", "width": 20, "height": 20} for i in range(5)],
        "texts": [],
    }
    summary = Layout.from_measure(raw).summary()

    assert summary.count("a#l") == 3
    assert summary.endswith("(and 2 more)")
