"""One SSL context per CA file, shared by every client (issue 15): building one parses the bundle."""

from __future__ import annotations

from pathlib import Path

import certifi

from paycert.core.tls import context_for, verifier


def test_one_context_per_ca_file_whatever_its_spelling() -> None:
    bundle = certifi.where()
    assert verifier(bundle) is verifier(Path(bundle)) is context_for(bundle)


def test_no_ca_file_is_the_system_trust() -> None:
    assert verifier(None) is True
    assert verifier("") is True
