"""Quetzal's hosted checkout page: a real HTML form a browser and a plain HTTP client can both fill."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

FORM_ID = "quetzal-checkout-form"
PAY_BUTTON_ID = "quetzal-pay"
ABORT_BUTTON_ID = "quetzal-abort"


def _shell(title: str, body: str, status: int) -> HTMLResponse:
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)} - Quetzal Pay</title></head>"
        f"<body><main><h1>Quetzal Pay</h1>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status)


def checkout_page(
    ref: str,
    total: int,
    currency: str,
    merchant_ref: str,
    *,
    error: str = "",
    holder: str = "",
    status: int = 200,
) -> HTMLResponse:
    """The card form for an open charge; `error` re-renders it with what was wrong (never the card data)."""
    amount = f"{total // 100}.{total % 100:02d} {currency}"
    problem = f"<p role='alert' class='error'>{escape(error)}</p>" if error else ""
    body = f"""
<p>Order <strong>{escape(merchant_ref)}</strong>: <strong>{escape(amount)}</strong></p>
{problem}
<form id="{FORM_ID}" method="post" action="/pay/{escape(ref)}" autocomplete="off">
  <label>Name on card <input name="holder" value="{escape(holder)}" required></label>
  <label>Card number <input name="pan" inputmode="numeric" pattern="[0-9 ]{{12,23}}" required></label>
  <label>Expiry (MM/YYYY) <input name="exp" placeholder="MM/YYYY" pattern="[0-9]{{2}}/[0-9]{{4}}" required></label>
  <label>Security code <input name="csc" inputmode="numeric" pattern="[0-9]{{3,4}}" required></label>
  <button type="submit" id="{PAY_BUTTON_ID}" name="action" value="pay">Pay {escape(amount)}</button>
  <button type="submit" id="{ABORT_BUTTON_ID}" name="action" value="cancel" formnovalidate>Back to the shop</button>
</form>"""
    return _shell("Checkout", body, status)


def closed_page(state: str, status: int) -> HTMLResponse:
    """What a shopper sees on the link of a charge that cannot be paid (any more): no form, nothing to press."""
    return _shell("Charge closed", f"<p>This charge is {escape(state)} and cannot be paid.</p>", status)


def unknown_page() -> HTMLResponse:
    return _shell("Unknown charge", "<p>There is no charge at this address.</p>", 404)
