"""The attested criteria (ATT-*): what no test can see, judged from the run's attestations file.

A current attestation is the evidence (who, when, on what, until when); a missing, expired or future-dated one,
or one whose evidence file is gone, leaves its criterion "awaiting attestation": not evaluated, never passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from paycert.core.evidence import AttestationRecord
from paycert.plugin.outcomes import NOT_EVALUATED_PREFIX
from paycert.plugin.session import RunState, run_state
from paycert.targets.attestations import Attestation


@dataclass
class AttestationDesk:
    """Where a suite asks whether a criterion is attested, as of the run's day."""

    run: RunState
    today: date

    def confirm(self, criterion: str) -> Attestation:
        """The current attestation of `criterion`, recorded as the test's evidence; else not evaluated."""
        book = self.run.attestations
        reason = book.why_not(criterion, self.today)
        if reason is not None:
            pytest.skip(f"{NOT_EVALUATED_PREFIX}{reason}")
        attestation = book.latest(criterion)
        assert attestation is not None  # why_not said it is there
        self.run.recorder.log.add(
            AttestationRecord(
                criterion=criterion,
                by=self.run.redactor.text(attestation.by),
                at=attestation.at.isoformat(),
                evidence=self.run.redactor.text(attestation.evidence),
                expires=attestation.expires.isoformat() if attestation.expires else "",
                detail=self.run.redactor.text(attestation.detail),
            )
        )
        return attestation


@pytest.fixture
def attestations(request: pytest.FixtureRequest) -> AttestationDesk:
    """The run's attestations, judged as of today (UTC)."""
    return AttestationDesk(run_state(request.config), datetime.now(UTC).date())
