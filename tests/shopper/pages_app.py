"""A tiny hosted-page gateway for the shopper's tests: a payment form, a 3-D Secure challenge and redirects to a
merchant return URL nobody listens on. Card numbers decide the outcome, as on a real sandbox.

It records each form it receives (`submissions`), so tests can see exactly what a driver sent.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

SESSION = "s3ss10n-hidden"
PASSWORD = "password1"
SUCCESS_CARD = "4111111111111111"
DECLINED_CARD = "4000000000000002"
CHALLENGE_CARD = "4000000000003220"

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body>{body}</body></html>"""

_PAY_FORM = """
<form id="search" method="get" action="/search"><input name="q"><button>Search</button></form>
<h1>Pay 10.00 EUR</h1>
<form id="payform" method="post" action="/pay/{pid}">
  <input type="hidden" name="session" value="{session}">
  <label>Card number <input name="cardNumber" autocomplete="cc-number" required></label>
  <label>Expiry (MM/YY) <input name="expiry" required></label>
  <label>CVC <input name="cvc" required></label>
  <label>Name <input name="holder"></label>
  <label><input type="checkbox" name="newsletter" value="yes"> news</label>
  <select name="lang"><option value="en">English</option><option value="de" selected>Deutsch</option></select>
  <button type="submit" name="action" value="pay">Pay</button>
  <button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</form>"""

# A second layout: separate expiry fields, a form found by name, buttons by id, a button outside the form.
_SPLIT_FORM = """
<div id="checkout">
<form name="checkout" method="post" action="/split/{pid}" id="co">
  <input type="hidden" name="session" value="{session}">
  <input name="pan" required><input name="mm" required><input name="yyyy" required>
  <input name="csc" type="password" required>
</form>
</div>
<button id="paybtn" type="submit" form="co" name="do" value="go">Pay now</button>
<button id="back" type="submit" form="co" name="do" value="back" formnovalidate>Back to shop</button>"""

# A third layout, as checkout-session gateways draw it: the cancel button in a form of its own, beside (not
# inside) the payment form, posting somewhere else.
_TWO_FORMS = """
<form id="payform" method="post" action="/pay/{pid}">
  <input type="hidden" name="session" value="{session}">
  <input name="cardNumber" required><input name="expiry" required><input name="cvc" required>
  <input name="holder">
  <button type="submit" name="action" value="pay">Pay</button>
</form>
<form id="cancelform" method="post" action="/abandon/{pid}">
  <input type="hidden" name="session" value="{session}">
  <button id="cancel-button" type="submit">Cancel and return to the shop</button>
</form>"""

_CHALLENGE_FORM = """
<h1>3-D Secure</h1><p>Enter the password for the card ending {last4}.</p>
<form id="challenge" method="post" action="/challenge/{pid}">
  <input type="password" name="password" required>
  <button type="submit" name="action" value="submit">Submit</button>
  <button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</form>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=title, body=body), status_code=status)


def create_app(return_url: str) -> FastAPI:
    """The app; every outcome answers 303 to `return_url` with `paymentId` and `status` appended."""
    app = FastAPI()
    submissions: dict[str, list[tuple[str, str]]] = {}
    app.state.submissions = submissions

    def back(pid: str, status: str) -> RedirectResponse:
        query = urlencode({"paymentId": pid, "status": status})
        return RedirectResponse(f"{return_url}?{query}", status_code=303)

    async def received(request: Request, key: str) -> dict[str, list[str]]:
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
        submissions[key] = pairs
        form: dict[str, list[str]] = {}
        for name, value in pairs:
            form.setdefault(name, []).append(value)
        return form

    def decide(pid: str, number: str) -> Response:
        if number == DECLINED_CARD:
            return back(pid, "FAILED")
        if number == CHALLENGE_CARD:
            return RedirectResponse(f"/challenge/{pid}", status_code=303)
        return back(pid, "COMPLETED")

    @app.get("/pay/{pid}")
    def pay_page(pid: str) -> HTMLResponse:
        return _page("Pay", _PAY_FORM.format(pid=html.escape(pid), session=SESSION))

    @app.get("/start/{pid}")
    def start(pid: str) -> RedirectResponse:  # the gateway's redirectUrl bounces once before the page
        return RedirectResponse(f"/pay/{pid}?token=t0ken-secret", status_code=302)

    @app.post("/pay/{pid}")
    async def pay(pid: str, request: Request) -> Response:
        form = await received(request, pid)
        if form.get("session") != [SESSION] or len(form.get("action", [])) != 1:
            return _page("Bad request", "<p>bad form</p>", 400)
        if form["action"] == ["cancel"]:
            return back(pid, "CANCELLED")
        expiry = form.get("expiry", [""])[0]
        if len(expiry) != 5 or expiry[2] != "/" or not form.get("cvc", [""])[0]:
            return _page("Bad request", "<p>bad expiry or cvc</p>", 400)
        return decide(pid, form.get("cardNumber", [""])[0])

    @app.get("/split/{pid}")
    def split_page(pid: str) -> HTMLResponse:
        return _page("Pay", _SPLIT_FORM.format(pid=html.escape(pid), session=SESSION))

    @app.post("/split/{pid}")
    async def split(pid: str, request: Request) -> Response:
        form = await received(request, pid)
        if form.get("session") != [SESSION] or len(form.get("do", [])) != 1:
            return _page("Bad request", "<p>bad form</p>", 400)
        if form["do"] == ["back"]:
            return back(pid, "CANCELLED")
        if len(form.get("yyyy", [""])[0]) != 4:
            return _page("Bad request", "<p>bad year</p>", 400)
        return decide(pid, form.get("pan", [""])[0])

    @app.get("/twoforms/{pid}")
    def two_forms_page(pid: str) -> HTMLResponse:
        return _page("Pay", _TWO_FORMS.format(pid=html.escape(pid), session=SESSION))

    @app.post("/abandon/{pid}")
    async def abandon(pid: str, request: Request) -> Response:
        form = await received(request, f"{pid}/abandon")
        if form != {"session": [SESSION]}:  # the card fields of the other form must not come along
            return _page("Bad request", "<p>bad cancel form</p>", 400)
        return back(pid, "CANCELLED")

    @app.get("/challenge/{pid}")
    def challenge_page(pid: str) -> HTMLResponse:
        return _page("3-D Secure", _CHALLENGE_FORM.format(pid=html.escape(pid), last4="3220"))

    @app.post("/challenge/{pid}")
    async def challenge(pid: str, request: Request) -> Response:
        form = await received(request, f"{pid}/challenge")
        if form.get("action") == ["cancel"]:
            return back(pid, "CANCELLED")
        if form.get("password") == [PASSWORD]:
            return back(pid, "COMPLETED")
        return back(pid, "FAILED")

    @app.get("/again/{pid}")
    def again_page(pid: str) -> HTMLResponse:  # a challenge that never lets go: every answer shows it again
        return _page(
            "3-D Secure",
            _CHALLENGE_FORM.format(pid=html.escape(pid), last4="3220").replace(
                f"/challenge/{html.escape(pid)}", f"/again/{html.escape(pid)}"
            ),
        )

    @app.post("/again/{pid}")
    def again(pid: str) -> RedirectResponse:
        return RedirectResponse(f"/again/{pid}", status_code=303)

    @app.get("/echo/{pid}")
    def echo_page(pid: str) -> HTMLResponse:
        return _page(
            "Pay", _PAY_FORM.format(pid=html.escape(pid), session=SESSION).replace("/pay/", "/echo/")
        )

    @app.post("/echo/{pid}")
    async def echo(pid: str, request: Request) -> HTMLResponse:
        """A careless decline page: the form comes back with the typed card number in it."""
        form = await received(request, pid)
        number = html.escape(form.get("cardNumber", [""])[0])
        body = _PAY_FORM.format(pid=html.escape(pid), session=SESSION).replace("/pay/", "/echo/")
        body = body.replace('name="cardNumber"', f'name="cardNumber" value="{number}"')
        return _page("Declined", '<p class="error">Declined, try again.</p>' + body)

    @app.get("/loop")
    def loop() -> RedirectResponse:
        return RedirectResponse("/loop", status_code=302)

    @app.get("/blank")
    def blank() -> HTMLResponse:
        return _page("Nothing here", "<p>No form on this page.</p>")

    @app.get("/broken")
    def broken() -> HTMLResponse:
        return _page("Error", "<p>Internal error</p>", 500)

    @app.get("/wait/{pid}")
    def wait(pid: str) -> HTMLResponse:  # a "please wait" page that moves on by itself
        head = f'<meta http-equiv="refresh" content="0;url=/pay/{html.escape(pid)}">'
        return _page("Please wait", head + "<p>Loading the payment page...</p>")

    return app
