"""What counts as a check behind a pass: an attestation only for attested criteria, a load phase per answer."""

from __future__ import annotations

from paycert.plugin.plugin import _checks_in

ATTESTATION = {"kind": "attestation", "criterion": "ATT-PCI-DSS", "by": "Ann", "at": "2026-12-01"}


def test_an_attestation_is_the_check_of_an_attested_criterion_only() -> None:
    assert _checks_in(ATTESTATION, attested=True) == 1
    assert _checks_in(ATTESTATION, attested=False) == 0


def test_exchanges_count_one_load_phases_count_their_answers_notes_nothing() -> None:
    assert _checks_in({"kind": "exchange"}) == 1
    assert _checks_in({"kind": "load", "answered": 157}) == 157
    assert _checks_in({"kind": "note", "text": "x"}) == 0
