"""Kestrel's hosted pages: plain HTML forms that a browser and a plain HTTP client can both fill.

The checkout page has two forms, as hosted checkouts usually do: the back link to the merchant sits in a
header form of its own (`#cancel-form`), outside the card form (`#payment-form`). The 3-D Secure page does the
same: its cancel button is in a second form. Every form carries the session's hidden `csrf_token`.
"""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

PAYMENT_FORM_ID = "payment-form"
PAY_BUTTON_ID = "submit-button"
CANCEL_FORM_ID = "cancel-form"
CANCEL_BUTTON_ID = "cancel-button"
CHALLENGE_FORM_ID = "challenge-form"
CHALLENGE_SUBMIT_ID = "challenge-submit"
CHALLENGE_CANCEL_FORM_ID = "challenge-cancel-form"
CHALLENGE_CANCEL_ID = "challenge-cancel"

# Currencies without minor units (ISO 4217 exponent 0): the amount is in whole units.
ZERO_DECIMAL = frozenset(
    (
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    )
)


def display_amount(amount: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    return f"{amount // 100}.{amount % 100:02d} {currency.upper()}"


def _page(title: str, body: str, status: int) -> HTMLResponse:
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)} | Kestrel Pay</title></head>"
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})


def checkout_page(
    session_id: str,
    amount: int,
    currency: str,
    csrf_token: str,
    *,
    error: str = "",
    name: str = "",
    status: int = 200,
) -> HTMLResponse:
    """The card form of an open session; `error` shows what was wrong with the last try (never the card)."""
    sid = escape(session_id)
    token = escape(csrf_token)
    price = escape(display_amount(amount, currency))
    alert = f"<div role='alert' class='error'>{escape(error)}</div>" if error else ""
    body = f"""
<header>
  <form id="{CANCEL_FORM_ID}" method="post" action="/c/pay/{sid}/cancel">
    <input type="hidden" name="csrf_token" value="{token}">
    <button type="submit" id="{CANCEL_BUTTON_ID}">&larr; Back to the merchant</button>
  </form>
</header>
<main>
  <h1>Pay {price}</h1>
  {alert}
  <form id="{PAYMENT_FORM_ID}" method="post" action="/c/pay/{sid}" autocomplete="off">
    <input type="hidden" name="csrf_token" value="{token}">
    <label for="cardNumber">Card number</label>
    <input id="cardNumber" name="cardNumber" inputmode="numeric" autocomplete="cc-number"
           placeholder="1234 1234 1234 1234" required>
    <label for="cardExpiry">Expiry (MM / YY)</label>
    <input id="cardExpiry" name="cardExpiry" autocomplete="cc-exp" placeholder="MM / YY" required>
    <label for="cardCvc">CVC</label>
    <input id="cardCvc" name="cardCvc" inputmode="numeric" autocomplete="cc-csc" placeholder="CVC" required>
    <label for="billingName">Name on card</label>
    <input id="billingName" name="billingName" autocomplete="cc-name" value="{escape(name)}" required>
    <button type="submit" id="{PAY_BUTTON_ID}">Pay {price}</button>
  </form>
</main>"""
    return _page("Checkout", body, status)


def challenge_page(authentication_id: str, amount: int, currency: str, *, status: int = 200) -> HTMLResponse:
    """The issuer's 3-D Secure page: a password, a submit button, and a cancel button in its own form."""
    aid = escape(authentication_id)
    price = escape(display_amount(amount, currency))
    body = f"""
<main>
  <h1>Confirm your payment of {price}</h1>
  <p>Your bank asks you to confirm this payment. Test password: see the Kestrel documentation.</p>
  <form id="{CHALLENGE_FORM_ID}" method="post" action="/c/authenticate/{aid}">
    <label for="password">Password</label>
    <input id="password" type="password" name="password" autocomplete="one-time-code" required>
    <button type="submit" id="{CHALLENGE_SUBMIT_ID}" name="action" value="authenticate">Confirm</button>
  </form>
  <form id="{CHALLENGE_CANCEL_FORM_ID}" method="post" action="/c/authenticate/{aid}">
    <button type="submit" id="{CHALLENGE_CANCEL_ID}" name="action" value="cancel">Cancel</button>
  </form>
</main>"""
    return _page("3-D Secure", body, status)


def message_page(title: str, text: str, status: int) -> HTMLResponse:
    """A page with nothing to press: an unknown, closed or forged checkout."""
    return _page(title, f"<main><h1>{escape(title)}</h1><p>{escape(text)}</p></main>", status)
