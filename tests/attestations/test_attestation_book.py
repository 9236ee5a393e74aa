"""The attestations file: what makes an ATT-* criterion attested, and what leaves it awaiting attestation."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from paycert.core.errors import TargetError
from paycert.targets.attestations import AWAITING, Attestation, add_attestation, load_attestations
from paycert.targets.home import find_home

TODAY = date(2026, 12, 6)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_file_attests_every_attested_criterion_of_the_catalogue() -> None:
    from paycert.core.criteria import Catalogue

    home = find_home()
    book = load_attestations(home / "fixtures" / "attestations.example.yaml")
    catalogue = Catalogue.from_path(home / "specs" / "readiness.yaml")
    attested = [c.id for c in catalogue if c.evidenced_by == "attestation"]

    assert len(attested) >= 6
    assert {a.criterion for a in book.items} == set(attested)
    assert all(book.why_not(c, TODAY) is None for c in attested)


def test_a_missing_attestation_awaits_one(tmp_path: Path) -> None:
    book = load_attestations(
        write(
            tmp_path / "a.yaml",
            "attestations:\n- {criterion: ATT-SUPPORT, by: Ann, at: '2026-11-01', evidence: 'https://x.test/s'}\n",
        )
    )

    reason = book.why_not("ATT-PCI-DSS", TODAY)

    assert reason is not None
    assert reason.startswith(AWAITING)
    assert "nobody has attested ATT-PCI-DSS" in reason
    assert book.why_not("ATT-SUPPORT", TODAY) is None


def test_no_file_at_all_leaves_every_criterion_awaiting() -> None:
    reason = load_attestations(None).why_not("ATT-PCI-DSS", TODAY)

    assert reason is not None
    assert "no attestations file was given" in reason


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (
            "{criterion: ATT-PCI-DSS, by: Ann, at: 2025-01-01, evidence: 'https://x.test/aoc', expires: 2025-12-31}",
            "expired on 2025-12-31",
        ),
        (
            "{criterion: ATT-PCI-DSS, by: Ann, at: 2027-01-01, evidence: 'https://x.test/aoc'}",
            "a date still to come",
        ),
        (
            "{criterion: ATT-PCI-DSS, by: Ann, at: 2026-01-01, evidence: aoc.pdf}",
            "evidence file aoc.pdf does not exist",
        ),
    ],
    ids=["expired", "future-dated", "evidence file missing"],
)
def test_an_attestation_that_no_longer_holds_awaits_a_new_one(tmp_path: Path, entry: str, says: str) -> None:
    book = load_attestations(write(tmp_path / "a.yaml", f"attestations:\n- {entry}\n"))

    reason = book.why_not("ATT-PCI-DSS", TODAY)

    assert reason is not None
    assert reason.startswith(AWAITING)
    assert says in reason, reason
    assert "attested by Ann" in reason


def test_an_evidence_file_next_to_the_attestations_counts(tmp_path: Path) -> None:
    (tmp_path / "aoc.pdf").write_bytes(b"%PDF-1.4")
    book = load_attestations(
        write(
            tmp_path / "a.yaml",
            "attestations:\n- {criterion: ATT-PCI-DSS, by: Ann, at: 2026-01-01, evidence: aoc.pdf}\n",
        )
    )

    assert book.why_not("ATT-PCI-DSS", TODAY) is None


def test_a_renewal_supersedes_the_expired_attestation(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.yaml",
        "attestations:\n- {criterion: ATT-PCI-DSS, by: Ann, at: 2024-12-01, evidence: 'https://x.test/1', expires: 2025-12-01}\n",
    )
    assert load_attestations(path).why_not("ATT-PCI-DSS", TODAY) is not None

    book = add_attestation(
        path,
        Attestation(
            "ATT-PCI-DSS",
            "Bob, CISO",
            TODAY - timedelta(days=1),
            "https://x.test/2",
            TODAY + timedelta(days=365),
        ),
    )

    assert len(book.items) == 2
    assert book.why_not("ATT-PCI-DSS", TODAY) is None
    latest = book.latest("ATT-PCI-DSS")
    assert latest is not None
    assert latest.by == "Bob, CISO"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "attestations:\n- {criterion: ATT-PCI-DSS, at: 2026-01-01, evidence: x}\n",
            "'by' is a required property",
        ),
        ("attestations:\n- {criterion: PCI, by: A, at: 2026-01-01, evidence: x}\n", "does not match"),
        (
            "attestations:\n- {criterion: ATT-PCI-DSS, by: A, at: 2026-02-30, evidence: x}\n",
            "day is out of range",
        ),
        ("attestations: [\n", "not valid YAML"),
    ],
    ids=["no signer", "not an ATT criterion", "no such day", "not YAML"],
)
def test_a_bad_attestations_file_is_one_clear_error(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(TargetError) as caught:
        load_attestations(write(tmp_path / "bad.yaml", text))

    assert says in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1
