"""The cost of redacting evidence, against serializing it: the same document, the same process."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from paycert.redaction import Redactor

ROUNDS = 50
TIME_CAP_SECONDS = 60.0


def evidence_document(exchanges: int = 200) -> dict[str, Any]:
    """A report-sized document: exchanges with headers, card data and ids, like a certification run's."""
    items = []
    for n in range(exchanges):
        items.append(
            {
                "method": "POST",
                "url": f"http://127.0.0.1:8000/gustaffo/api/v1/payments/pay_{n:016x}",
                "request_headers": {
                    "Authorization": f"Bearer tok_{n:032x}",
                    "Content-Type": "application/json",
                },
                "request_body": json.dumps(
                    {
                        "amount": 10.5 + n,
                        "currency": "EUR",
                        "card": {"number": "4111111111111111", "cvv": "123"},
                    }
                ),
                "response_body": json.dumps(
                    {"paymentId": f"pay_{n:016x}", "status": "COMPLETED", "createdAt": 1795463009.675 + n}
                ),
                "curl": f"curl -X POST http://127.0.0.1:8000/gustaffo/api/v1/payments -H 'Authorization: Bearer tok_{n:032x}'",
            }
        )
    return {"evidence": items}


def timed(call: Any) -> float:
    samples = []
    deadline = time.monotonic() + TIME_CAP_SECONDS
    for _ in range(ROUNDS):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
        if time.monotonic() > deadline:
            break
    return statistics.median(samples)


def main() -> None:
    document = evidence_document()
    text = json.dumps(document)
    redactor = Redactor(["gst_sandbox_secret_7Qm2"])
    baseline = timed(lambda: json.dumps(document))
    redacted = timed(lambda: redactor.text(text))
    print(f"json.dumps (baseline) {baseline * 1000:8.2f} ms for {len(text) / 1024:.0f} KiB")
    print(f"Redactor.text         {redacted * 1000:8.2f} ms")
    print(f"ratio {redacted / baseline:.1f}x")


if __name__ == "__main__":
    main()
