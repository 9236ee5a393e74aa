"""Validation of createPayment's body, as `specs/paylican/openapi.yaml` (PaymentRequest) describes it."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

MAX_REDIRECTION_URL = 900  # the seed: "Must not exceed 900 characters"
AMOUNT_DECIMALS = 2  # EUR, the sandbox account's currency (paycert's decision: the seed names none)
MIN_AMOUNT = 0.01  # one cent: less is nothing once rounded to the cent
_TYPE = re.compile(r"^[A-Za-z0-9]{1,20}$")
# The reference is a path segment of the pay page URL, so it keeps to characters that need no escaping.
_REFERENCE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class MalformedBodyError(ValueError):
    """The body is not a JSON object."""


def _reject_constant(name: str) -> Any:
    raise MalformedBodyError(f"{name} is not a number")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null", parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBodyError("Malformed JSON request") from exc
    if not isinstance(body, dict):
        raise MalformedBodyError("Malformed JSON request: an object is expected")
    return body


def _string(body: dict[str, Any], name: str, *, required: bool, max_length: int) -> list[str]:
    value = body.get(name)
    if value is None:
        return [f"{name} is required"] if required else []
    if not isinstance(value, str) or (required and not value.strip()):
        return [f"{name} must be a non-empty string" if required else f"{name} must be a string"]
    if len(value) > max_length:
        return [f"{name} must not exceed {max_length} characters"]
    return []


def _amount(body: dict[str, Any], *, check_positive: bool) -> list[str]:
    value = body.get("amount")
    if value is None:
        return ["amount is required"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ["amount must be a number"]
    if check_positive and value <= 0:
        return ["amount must be greater than 0"]
    if check_positive and value < MIN_AMOUNT:
        return [f"amount must be at least {MIN_AMOUNT}"]
    return []


def in_cents(value: int | float) -> int | float:
    """The amount in whole cents of the account's currency, rounded half-up (0.015 is 0.02): paycert's decision,
    as gustaffo's. The seed names no currency, so an invoice is in the account's one currency, EUR in the
    sandbox, and a third decimal cannot be kept. Whole amounts stay as sent (100, and floats too large to
    carry a decimal)."""
    exact = Decimal(repr(value))
    if not exact.is_finite() or exact == exact.to_integral_value():
        return value
    return float(exact.quantize(Decimal(1).scaleb(-AMOUNT_DECIMALS), rounding=ROUND_HALF_UP))


def _redirection_url(body: dict[str, Any]) -> list[str]:
    problems = _string(body, "redirectionUrl", required=True, max_length=MAX_REDIRECTION_URL)
    if problems:
        return problems
    parts = urlsplit(body["redirectionUrl"])
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return ["redirectionUrl must be an absolute http or https URL"]
    return []


def _additional_fields(body: dict[str, Any]) -> list[str]:
    fields = body.get("additionalFields")
    if fields is None:
        return []
    if not isinstance(fields, list) or len(fields) > 50:
        return ["additionalFields must be an array of at most 50 {code, value} objects"]
    for index, item in enumerate(fields):
        if not isinstance(item, dict) or any(
            not isinstance(item.get(key), str | None) for key in ("code", "value")
        ):
            return [f"additionalFields[{index}] must be an object with string code and value"]
    return []


def problems_of(body: dict[str, Any], *, check_amount: bool = True) -> list[str]:
    """Every problem of a createPayment body, in field order; empty when it is valid.

    `check_amount=False` is the fault `accept-bad-amount`: zero and negative amounts pass.
    """
    problems = _amount(body, check_positive=check_amount)
    kind = body.get("type")
    if kind is None:
        problems.append("type is required")
    elif not isinstance(kind, str) or not _TYPE.match(kind):
        problems.append("type must be 1 to 20 letters or digits")
    problems += _string(body, "customerCode", required=True, max_length=50)
    reference = body.get("merchantReference")
    if reference is None:
        problems.append("merchantReference is required")
    elif not isinstance(reference, str) or not _REFERENCE.match(reference):
        problems.append("merchantReference must be 1 to 100 letters, digits, '.', '_' or '-'")
    problems += _redirection_url(body)
    problems += _string(body, "itemName", required=False, max_length=255)
    problems += _string(body, "beneficiaryCode", required=False, max_length=50)
    problems += _additional_fields(body)
    return problems
