"""What no test can see (002 §1.2, §1.4, §2.1-§2.3, §3.2, §3.3, §4.1, §5.2, §7): each ATT-* criterion of the
catalogue is evidenced by a person's attestation, current on the day of the run.

The plugin makes one test per ATT-* criterion (`attested_criterion`). A criterion nobody attested, or whose
attestation expired, is "awaiting attestation": not evaluated, so a blocking one keeps the verdict NO-GO.
"""

from __future__ import annotations

from paycert.plugin.attested import AttestationDesk


def test_what_no_test_can_see_is_attested_by_someone_accountable(
    attested_criterion: str, attestations: AttestationDesk
) -> None:
    attestation = attestations.confirm(attested_criterion)

    assert attestation.at <= attestations.today, f"attested on {attestation.at}, after the run"
    if attestation.expires is not None:
        assert attestation.expires >= attestations.today, f"the attestation expired on {attestation.expires}"
