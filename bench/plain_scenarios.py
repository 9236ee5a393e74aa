"""The baseline of the `scenarios` comparison: gustaffo's scenarios suite as a plain httpx script.

The same calls `paycert run -g gustaffo -s scenarios` makes to the same sandbox (counted from the sandbox's
request log of a paycert run; `bench/run.py scenarios` records both counts): a token, a webhook registration (removed at the end),
the credential probes, payments paid on the hosted page with plain form posts (a frictionless card, a declined
one, the 3-D Secure challenge passed and failed, a cancel), status reads, invalid amounts and a refund. Like
paycert it waits for the webhooks the suite waits for, on a receiver of its own on loopback. It checks only
what it needs to go on; no evidence, no report.

Run: `python bench/plain_scenarios.py --base-url https://127.0.0.1:PORT/gustaffo --ca-file CA.pem`.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urljoin

import httpx

CREDENTIALS = {"client_id": "gustaffo-sandbox", "client_secret": "gst_sandbox_secret_7Qm2"}
EVENTS = ["payment.completed", "payment.failed", "payment.cancelled", "payment.refunded", "payment.expired"]
SUCCESS = {"cardNumber": "4111111111111111", "expiryDate": "12/2030", "cvv": "123"}
DECLINED = {"cardNumber": "4111111111111111", "expiryDate": "01/2023", "cvv": "123"}
CHALLENGE = {"cardNumber": "5555555555554444", "expiryDate": "12/2030", "cvv": "123"}
WEBHOOK_WAIT_S = 30.0
MAX_REDIRECTS = 5
_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


class Receiver:
    """Webhooks (POST) land here, by payment id; the return URL is on it too (the shopper stops before it)."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                event = json.loads(body)
                with receiver.arrived:
                    receiver.events.setdefault(event["data"]["paymentId"], []).append(event)
                    receiver.arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, payment_id: str, status: str | None = None, timeout: float = WEBHOOK_WAIT_S) -> bool:
        """Wait (bounded) for a webhook about the payment, with that status if given."""

        def arrived() -> bool:
            got = self.events.get(payment_id, [])
            return any(status is None or e["data"]["status"] == status for e in got)

        with self.arrived:
            return self.arrived.wait_for(arrived, timeout=timeout)


class Gustaffo:
    """The calls, as a merchant would write them with httpx and nothing else."""

    def __init__(self, base_url: str, ca_file: str, receiver: Receiver) -> None:
        self.base = base_url
        self.http = httpx.Client(verify=ca_file, timeout=10.0)
        self.receiver = receiver
        self.token = ""

    def token_request(self, client_id: str, client_secret: str) -> httpx.Response:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        return self.http.post(f"{self.base}/oauth/token", data=form)

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def create(
        self, amount: float | str, *, headers: dict[str, str] | None = None
    ) -> tuple[httpx.Response, str]:
        reference = f"PLAIN-{uuid.uuid4().hex[:12].upper()}"
        return_url = f"{self.receiver.url}/return/{reference}"
        body: dict[str, Any] = {
            "amount": float(amount),
            "currency": "EUR",
            "orderId": reference,
            "description": f"plain {reference}",
            "returnUrl": return_url,
        }
        answer = self.http.post(
            f"{self.base}/api/v1/payments", json=body, headers=self.auth() if headers is None else headers
        )
        return answer, return_url

    def status(self, payment_id: str) -> str:
        answer = self.http.get(f"{self.base}/api/v1/payments/{payment_id}", headers=self.auth())
        return str(answer.json()["status"])

    def shop(self, payment: dict[str, Any], return_url: str, forms: list[dict[str, str]]) -> str:
        """Open the hosted page, post each form in turn, follow redirects by hand until the return URL."""
        url = str(payment["redirectUrl"])
        for _ in range(MAX_REDIRECTS):
            page = self.http.get(url)
            form = _FORM_ACTION.search(page.text)
            if form is None:
                raise RuntimeError(f"no form on {url} (HTTP {page.status_code})")
            action = urljoin(url, str(form.group(1)))
            posted = self.http.post(action, data=forms.pop(0))
            url = urljoin(action, str(posted.headers["location"]))
            if url.startswith(return_url):
                return url
        raise RuntimeError(f"no return to the merchant after {MAX_REDIRECTS} pages")

    def pay(self, card: dict[str, str], password: str | None = None, amount: float = 10.0) -> dict[str, Any]:
        answer, return_url = self.create(amount)
        payment: dict[str, Any] = answer.json()
        forms = [{**card, "action": "pay"}]
        if password is not None:
            forms.append({"password": password, "action": "submit"})
        self.shop(payment, return_url, forms)
        return payment


def scenarios(gw: Gustaffo) -> None:
    """gustaffo's scenarios suite, call for call."""
    gw.http.get(f"{gw.base}/")  # is anything there? (paycert probes the base URL before a run)
    gw.token = gw.token_request(**CREDENTIALS).json()["access_token"]
    registration = gw.http.post(
        f"{gw.base}/api/v1/webhooks",
        json={"url": f"{gw.receiver.url}/webhooks", "events": EVENTS},
        headers=gw.auth(),
    ).json()
    # AUTH-CREDENTIALS: wrong credentials, each credential wrong on its own, the token works, none works without.
    gw.token_request("wrong-client", "wrong-secret")
    gw.token_request("wrong-client", CREDENTIALS["client_secret"])
    gw.token_request(CREDENTIALS["client_id"], "wrong-secret")
    gw.create("5.00")
    gw.create("5.00", headers={})
    gw.create("5.00", headers=gw.auth("paycert-forged-token"))
    created, _ = gw.create("5.00")
    gw.http.get(f"{gw.base}/api/v1/payments/{created.json()['paymentId']}")
    # PAY-SUCCESS, PAY-DECLINED: the hosted page, the status API and the webhook.
    paid = gw.pay(SUCCESS)
    gw.status(paid["paymentId"])
    gw.receiver.wait(paid["paymentId"], "COMPLETED")
    declined = gw.pay(DECLINED)
    gw.status(declined["paymentId"])
    gw.receiver.wait(declined["paymentId"], timeout=15.0)
    # PAY-3DS: the challenge passed, then failed.
    for password in ("password1", "not-the-password"):
        challenged = gw.pay(CHALLENGE, password=password)
        gw.status(challenged["paymentId"])
    # PAY-CANCEL: the page's cancel button.
    answer, return_url = gw.create("10.00")
    gw.shop(answer.json(), return_url, [{"action": "cancel"}])
    gw.status(answer.json()["paymentId"])
    # PAY-AMOUNT: zero and negative amounts.
    for amount in (0, -10):
        gw.create(amount)
    # OPS-REFUND: above the captured amount, in full, then a second time.
    refunded = gw.pay(SUCCESS, amount=19.99)
    gw.status(refunded["paymentId"])
    refunds = f"{gw.base}/api/v1/payments/{refunded['paymentId']}/refunds"
    gw.http.post(refunds, json={"amount": 20.00}, headers=gw.auth())
    gw.http.post(refunds, json={"amount": 19.99}, headers=gw.auth())
    gw.status(refunded["paymentId"])
    gw.http.post(refunds, json={"amount": 19.99}, headers=gw.auth())
    # The run's own webhook registration goes at the end, as paycert removes its one.
    gw.http.delete(f"{gw.base}/api/v1/webhooks/{registration['webhookId']}", headers=gw.auth())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base-url", required=True, help="gustaffo's base URL on the sandbox")
    parser.add_argument("--ca-file", required=True, help="the sandbox's CA certificate")
    args = parser.parse_args()
    receiver = Receiver()
    gw = Gustaffo(args.base_url, args.ca_file, receiver)
    try:
        scenarios(gw)
    finally:
        gw.http.close()
        receiver.server.shutdown()


if __name__ == "__main__":
    main()
