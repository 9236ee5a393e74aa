"""The reference merchant's HTTP surface, as specs/merchant/openapi.yaml describes it."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, JSONResponse

from paycert.sandbox.merchant.adapters import ADAPTERS, GatewayRefused
from paycert.sandbox.merchant.orders import FINAL, Order
from paycert.sandbox.merchant.service import Merchant, Rejected
from paycert.sandbox.pages import render
from paycert.sandbox.state import public_base

# Where a certification asks whether the merchant is still at work (specs/merchant/openapi.yaml, getWork).
WORK_PATH = "/_paycert/work"
# How long one WebSocket waits for the next change before it sends a keep-alive copy of the order.
WS_IDLE_SECONDS = 15.0


# What the shopper reads on the return page for each order status (002 §6.2: a clear message, with guidance).
RETURN_MESSAGES: dict[str, tuple[str, str]] = {
    "PAID": ("Thank you", "Your payment was received and your order is confirmed."),
    "FAILED": (
        "Payment not completed",
        "Your payment did not go through: your card was declined, or your bank could not confirm it was you "
        "(3-D Secure). No money was taken. Please check the card details and try again, use another card, "
        "or contact your bank.",
    ),
    "CANCELLED": (
        "Payment cancelled",
        "You cancelled the payment, so nothing was charged. You can order again.",
    ),
    "PENDING": (
        "Payment in progress",
        "We are waiting for the payment provider to confirm your payment. Reload this page in a minute.",
    ),
}


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status)


def view(order: Order) -> dict[str, Any]:
    """An order as the order-status endpoint shows it (seed 004's "Check Payment Status")."""
    return {
        "orderId": order["orderId"],
        "gateway": order["gateway"],
        "status": order["status"],
        "amount": order["amount"],
        "currency": order["currency"],
        "paymentId": order["paymentId"],
        "paymentUrl": order["paymentUrl"],
        "returnUrl": order.get("returnUrl"),
        "fulfilments": order["fulfilments"],
        "createdAt": order["createdAt"],
        "expiresAt": order["expiresAt"],
        "polledAt": order.get("polledAt"),
        "history": order["history"],
    }


def _money(body: dict[str, Any]) -> tuple[Decimal, str] | str:
    try:
        amount = Decimal(str(body.get("amount")))
    except InvalidOperation:
        return "amount must be a number"
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        return "amount must be positive with at most two decimals"
    currency = body.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        return "currency must be an ISO 4217 code such as EUR"
    return amount, currency.upper()


def build_router(merchant: Merchant) -> APIRouter:
    router = APIRouter(tags=["merchant"])

    @router.post("/orders", operation_id="createOrder", status_code=201)
    async def create_order(request: Request) -> JSONResponse:
        merchant.remember(public_base(request))
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "invalid_request", "the body must be JSON")
        if not isinstance(body, dict):
            return _error(400, "invalid_request", "the body must be a JSON object")
        gateway = body.get("gateway")
        if gateway not in ADAPTERS:
            return _error(400, "invalid_request", f"gateway must be one of {', '.join(ADAPTERS)}")
        money = _money(body)
        if isinstance(money, str):
            return _error(400, "invalid_request", money)
        card = body.get("card") or {}
        if not isinstance(card, dict) or not all(isinstance(v, str) for v in card.values()):
            return _error(400, "invalid_request", "card must be an object of strings")
        try:
            with merchant.handling():
                order = await merchant.checkout(str(gateway), *money, card)
        except GatewayRefused as exc:
            return _error(502, "gateway_refused", str(exc))
        return JSONResponse(view(order), status_code=201)

    @router.get("/orders", operation_id="findOrders")
    async def find_orders(request: Request, gateway: str = "", paymentId: str = "") -> JSONResponse:
        # Seed 004's check-payment-status by transaction id: which orders the merchant holds for a payment.
        merchant.remember(public_base(request))
        if not gateway or not paymentId:
            return _error(400, "invalid_request", "gateway and paymentId are required")
        return JSONResponse({"orders": [view(o) for o in merchant.book.for_payment(gateway, paymentId)]})

    @router.get("/orders/{orderId}", operation_id="getOrder")
    async def get_order(orderId: str, request: Request) -> JSONResponse:
        merchant.remember(public_base(request))
        order = merchant.book.get(orderId)
        if order is None:
            return _error(404, "not_found", "no such order")
        return JSONResponse(view(order))

    @router.post("/webhooks/{gateway}", operation_id="receiveWebhook")
    async def receive_webhook(gateway: str, request: Request) -> JSONResponse:
        if gateway not in ADAPTERS:
            return _error(404, "not_found", "no such gateway")
        merchant.remember(public_base(request))
        try:
            with merchant.handling():
                answer = await merchant.webhook(gateway, await request.body(), request.headers)
        except Rejected as exc:
            # Seed 004: `return 'Invalid callback', 400`; nothing was changed.
            return _error(400, "invalid_callback", str(exc))
        except (GatewayRefused, httpx.HTTPError) as exc:
            # The status could not be read back: let the gateway retry later.
            return _error(503, "try_again", str(exc))
        return JSONResponse(answer)

    @router.get("/return/{gateway}", operation_id="paymentReturn", response_class=HTMLResponse)
    async def payment_return(gateway: str, request: Request, orderId: str = "") -> HTMLResponse:
        merchant.remember(public_base(request))
        with merchant.handling():
            order = await merchant.returned(gateway, orderId, dict(request.query_params))
        if order is None:
            return HTMLResponse("<!doctype html><title>Unknown order</title><p>Unknown order.</p>", 404)
        status = str(order["status"])
        heading, message = RETURN_MESSAGES.get(status, ("Your order", ""))
        if status == "FAILED" and merchant.state.faults.active("silent-decline"):
            heading, message = "Your order", ""  # the fault: only the status code, no word on what happened
        return render(
            "merchant_return.html",
            order_id=order["orderId"],
            status=status,
            heading=heading,
            message=message,
            alert=status == "FAILED",
        )

    @router.get(WORK_PATH, operation_id="getWork")
    async def work() -> JSONResponse:
        # The control endpoint of specs/merchant/openapi.yaml: a certification reads an order's verdict as
        # soon as nothing the merchant has taken in can still change it, instead of waiting a fixed window.
        return JSONResponse(merchant.work())

    @router.websocket("/ws/orders/{orderId}")
    async def order_updates(websocket: WebSocket, orderId: str) -> None:
        # Seed 004 §3.2: the backend pushes each status change to the browser in real time.
        await websocket.accept()
        order = merchant.book.get(orderId)
        if order is None:
            await websocket.close(code=4404, reason="no such order")
            return
        queue = merchant.book.subscribe(orderId)
        try:
            await websocket.send_json(view(order))
            while order["status"] not in FINAL:
                with contextlib.suppress(TimeoutError):
                    order = await asyncio.wait_for(queue.get(), timeout=WS_IDLE_SECONDS)
                await websocket.send_json(view(order))
            await websocket.close()
        except WebSocketDisconnect:
            pass
        finally:
            merchant.book.unsubscribe(orderId, queue)

    return router
