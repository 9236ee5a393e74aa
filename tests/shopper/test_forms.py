"""The HTML form model and the CSS selector subset of the HTTP shopper."""

from __future__ import annotations

import pytest

from paycert.shopper import UnsupportedSelectorError
from paycert.shopper.forms import Document
from paycert.shopper.selectors import parse

PAGE = """<!doctype html><html><head><title>Pay &amp; go</title></head><body>
<form id="search" action="/search"><input name="q" value="shoes"></form>
<div id="checkout" class="card box">
  <form name="pay" id="payform" method="POST" action="../submit?x=1">
    <input type="hidden" name="session" value="abc">
    <input name="number"><input name="cvv" disabled value="9">
    <input type="checkbox" name="save" value="1" checked>
    <input type="radio" name="speed" value="slow"><input type="radio" name="speed" value="fast" checked>
    <textarea name="note">hello</textarea>
    <select name="month"><option>01</option><option value="02">Feb</option></select>
    <p><button name="action" value="pay">Pay</button></p>
    <button type="button" name="help" value="1">?</button>
    <input type="submit" name="action" value="cancel" formaction="/cancel" formmethod="get">
  </form>
</div>
<button id="outside" form="payform" name="via" value="outside">Outside</button>
</body></html>"""


@pytest.fixture
def document() -> Document:
    return Document(PAGE, "http://gw.test/a/b/page")


def test_forms_found_by_the_supported_selectors(document: Document) -> None:
    payform = document.form("form#payform")
    assert payform is not None
    assert document.form("#payform") is payform
    assert document.form("form[name=pay]") is payform
    assert document.form('form[name="pay"]') is payform
    assert document.form("#checkout") is payform  # a wrapper of the form
    assert document.form("div.card form") is payform
    assert document.form("div > form") is payform
    first = document.form(None)
    assert first is not None
    assert first.element.attrs["id"] == "search"
    assert document.form("form#nothing") is None
    assert document.title == "Pay & go"


def test_action_method_and_controls(document: Document) -> None:
    form = document.form("#payform")
    assert form is not None
    assert form.method == "POST"
    assert form.action == "http://gw.test/a/submit?x=1"
    assert form.input_names() == {"session", "number", "cvv", "save", "speed", "note", "month"}


def test_data_set_is_what_a_browser_sends(document: Document) -> None:
    form = document.form("#payform")
    assert form is not None
    pay = form.find("button[name=action][value=pay]")
    assert pay is not None

    assert form.data_set({"number": "4111"}, pay) == [
        ("session", "abc"),
        ("number", "4111"),
        ("save", "1"),
        ("speed", "fast"),
        ("note", "hello"),
        ("month", "01"),
        ("action", "pay"),
    ]
    assert form.target(pay) == ("POST", "http://gw.test/a/submit?x=1")


def test_the_pressed_button_decides_target_and_pair(document: Document) -> None:
    form = document.form("#payform")
    assert form is not None
    cancel = form.find("input[value=cancel]")
    outside = form.find("#outside")
    assert cancel is not None
    assert outside is not None
    assert form.target(cancel) == ("GET", "http://gw.test/cancel")
    assert ("action", "cancel") in form.data_set({}, cancel)
    assert ("action", "pay") not in form.data_set({}, cancel)
    assert form.data_set({}, outside)[-1] == ("via", "outside")
    helper = form.find("button[name=help]")
    assert helper is not None
    assert not helper.is_button  # type=button never submits


def test_meta_refresh() -> None:
    soon = Document('<meta http-equiv="Refresh" content="0; URL=\'/next\'">', "http://gw.test/x")
    later = Document('<meta http-equiv="refresh" content="600;url=/expired">', "http://gw.test/x")
    assert soon.refresh_url() == "http://gw.test/next"
    assert later.refresh_url() is None


@pytest.mark.parametrize("selector", ["a:first-child", "a + b", "a ~ b", "[name^=x]", "a >", "", "a,", "[x"])
def test_unsupported_selectors_are_named(selector: str) -> None:
    with pytest.raises(UnsupportedSelectorError, match="CSS selector"):
        parse(selector)


def test_selector_list_matches_any(document: Document) -> None:
    found = document.select("button[type=submit], input[type=submit]")
    assert [e.attrs.get("value") for e in found] == ["cancel"]  # buttons without type= are not type=submit
    assert len(document.select("button, input[type=submit]")) == 4
