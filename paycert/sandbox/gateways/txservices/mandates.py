"""Mandates: what a recurring INITIAL payment lets the merchant charge later without the card holder.

The seed (001) knows one kind, the recurring series: an INITIAL card payment, then any number of REPEATED
ones by its id. paycert's decision (specs/txservices/openapi.yaml): `mandateType` on the INITIAL says which
kind it sets up, `MULTI_USE` (the seed's series, the default) or `SINGLE_USE`, charged by one REPEATED only;
a second REPEATED on it is refused (409, 10107). A REPEATED the issuer declines does not use the mandate.

The use is taken in one atomic check-and-update of the INITIAL payment, so two REPEATED sent together on a
single-use mandate cannot both pass the check.
"""

from __future__ import annotations

from paycert.sandbox.gateways.txservices.codes import invalid, not_allowed
from paycert.sandbox.gateways.txservices.http import Params
from paycert.sandbox.gateways.txservices.ledger import PAYMENT, Doc, Ledger

SINGLE_USE = "SINGLE_USE"
MULTI_USE = "MULTI_USE"
KINDS = (MULTI_USE, SINGLE_USE)


def kind(params: Params, recurring: str | None) -> str | None:
    """The mandate an INITIAL payment sets up (None for a payment that starts no series)."""
    given = params.get("mandateType") or None
    if recurring != "INITIAL":
        if given:
            raise invalid("mandateType is sent with recurringType INITIAL only")
        return None
    if given not in (None, *KINDS):
        raise invalid(f"mandateType must be {' or '.join(KINDS)}")
    return given or MULTI_USE


def use(ledger: Ledger, parent: Doc) -> bool:
    """Take one use of the mandate `parent` (a successful INITIAL) set up, or refuse when none is left.

    True when a use was counted (to give back with `give_back` if the charge is declined).
    """
    if parent.get("mandateType") != SINGLE_USE:
        return False
    reused = ledger.state.faults.active("mandate-reuse")

    def take(doc: Doc) -> Doc | None:
        if doc.get("mandateUses", 0) >= 1 and not reused:
            raise not_allowed(
                f"the single-use mandate of payment {doc['id']} was already charged; "
                "a single-use mandate is charged once"
            )
        doc["mandateUses"] = doc.get("mandateUses", 0) + 1
        return doc

    # Not Ledger.transition: the INITIAL payment itself does not change state, so no callback is due.
    return ledger.state.store.update(PAYMENT, parent["id"], take) is not None


def give_back(ledger: Ledger, parent: Doc) -> None:
    """A declined REPEATED took no money: its use of the mandate is given back."""

    def release(doc: Doc) -> Doc | None:
        doc["mandateUses"] = max(doc.get("mandateUses", 0) - 1, 0)
        return doc

    ledger.state.store.update(PAYMENT, parent["id"], release)
