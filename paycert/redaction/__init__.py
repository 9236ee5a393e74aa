"""Redaction: one set of rules applied to everything paycert writes, and a scanner that checks for leaks."""

from __future__ import annotations

from paycert.redaction.ids import unmasked_id
from paycert.redaction.redact import (
    MASK,
    Redactor,
    find_leaks,
    is_sensitive_key,
    luhn_valid,
    mask_pan,
    redact_form,
    redact_headers,
    redact_json,
    redact_text,
    redact_url,
)

__all__ = [
    "MASK",
    "Redactor",
    "find_leaks",
    "is_sensitive_key",
    "luhn_valid",
    "mask_pan",
    "redact_form",
    "redact_headers",
    "redact_json",
    "redact_text",
    "redact_url",
    "unmasked_id",
]
