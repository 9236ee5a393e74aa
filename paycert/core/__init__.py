"""The canonical core: payment states, criteria, results, evidence and errors. It imports nothing above it."""

from __future__ import annotations

from paycert.core.criteria import Catalogue, Criterion
from paycert.core.errors import (
    GatewayUnreachableError,
    NotApplicable,
    PaycertError,
    ProfileError,
    SpecError,
    TargetError,
)
from paycert.core.evidence import Attachment, Evidence, EvidenceLog, Exchange, Note, WebhookCapture
from paycert.core.results import Outcome, TestResult, Verdict, combine, decide
from paycert.core.states import PaymentState

__all__ = [
    "Attachment",
    "Catalogue",
    "Criterion",
    "Evidence",
    "EvidenceLog",
    "Exchange",
    "GatewayUnreachableError",
    "NotApplicable",
    "Note",
    "Outcome",
    "PaycertError",
    "PaymentState",
    "ProfileError",
    "SpecError",
    "TargetError",
    "TestResult",
    "Verdict",
    "WebhookCapture",
    "combine",
    "decide",
]
