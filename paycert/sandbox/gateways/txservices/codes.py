"""Result codes and the one error type every txservices endpoint raises.

The source document names no codes; FACTS.md gives the family's success and failure codes (00001, 00004,
00005, 00006, 00026, 10001). The 1010x codes for rejected requests are paycert's decision, written in the spec.
"""

from __future__ import annotations

from dataclasses import dataclass

SUCCEEDED = "00001"
PENDING = "00002"  # paycert's decision: awaiting 3-D Secure or the account holder
CAPTURED = "00004"
REFUNDED = "00005"
CANCELLED = "00006"
RECORD_FOUND = "00026"
FAILED = "10001"

BAD_CREDENTIALS = "10101"
BAD_TOKEN = "10102"
CHECKSUM_MISMATCH = "10103"
INVALID_AMOUNT = "10104"
INVALID_PARAMETER = "10105"
NOT_FOUND = "10106"
NOT_ALLOWED = "10107"


@dataclass
class ApiError(Exception):
    """A rejected request: HTTP status, result code and a description a developer can act on."""

    http_status: int
    code: str
    description: str

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


def invalid(description: str) -> ApiError:
    return ApiError(400, INVALID_PARAMETER, f"Invalid parameter: {description}")


def not_allowed(description: str) -> ApiError:
    return ApiError(409, NOT_ALLOWED, f"Operation not allowed: {description}")
