"""Allure results (`allure-results/`) written from the readiness document, not by allure-pytest.

allure-pytest records failure traces that quote test values (request bodies, card fields) which the
redaction never sees, so paycert writes the Allure files itself, from the same redacted document that
readiness.json is made of: one result per test and gateway, labelled with its criterion, family, gateway and
severity, its evidence as a JSON attachment. Allure 3 (`tools/node`, npm) renders them: `allure generate
allure-results -o allure-report`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from paycert.redaction import luhn_valid, unmasked_id

__all__ = ["ALLURE_DIR", "render_allure"]

ALLURE_DIR = "allure-results"

# readiness outcomes -> Allure statuses; not evaluated is "broken" (never a pass), not applicable "skipped".
_STATUS = {"pass": "passed", "fail": "failed", "not_applicable": "skipped", "not_evaluated": "broken"}


def render_allure(document: Mapping[str, Any]) -> dict[str, str]:
    """File name -> content of every Allure result and attachment for the run's (redacted) document."""
    files: dict[str, str] = {}
    start_ms = _epoch_ms(document["run"].get("started_at"))
    for criterion, gateway, test in _tests(document):
        identity = f"{criterion['id']}/{gateway}/{test['nodeid']}"
        result_id = unmasked_id(_result_uuid, f"{document['run']['run_id']}/{identity}")
        attachment = f"{result_id}-evidence-attachment.json"
        files[attachment] = json.dumps(test.get("evidence") or [], indent=2, sort_keys=True)
        duration_ms = int(float(test.get("duration_s") or 0) * 1000)
        result = {
            "uuid": result_id,
            # The same test on the same gateway across runs: what Allure's history and retries key on.
            "historyId": unmasked_id(_history_id, identity),
            "name": f"{criterion['id']} · {gateway} · {_short(test['nodeid'])}",
            "fullName": test["nodeid"],
            "description": criterion.get("title", ""),
            "status": _STATUS.get(str(test.get("outcome")), "unknown"),
            "statusDetails": {"message": str(test.get("reason") or "")},
            "stage": "finished",
            "start": _unlike_a_card_number(start_ms),
            "stop": _unlike_a_card_number(start_ms + duration_ms),
            "labels": [
                {"name": "epic", "value": criterion.get("family", "")},
                {"name": "feature", "value": criterion["id"]},
                {"name": "story", "value": criterion.get("title", "")},
                {"name": "parentSuite", "value": gateway},
                {"name": "suite", "value": criterion["id"]},
                {"name": "tag", "value": gateway},
                {"name": "severity", "value": "blocker" if criterion.get("blocking") else "normal"},
            ],
            "attachments": [{"name": "evidence", "source": attachment, "type": "application/json"}],
        }
        files[f"{result_id}-result.json"] = json.dumps(result, indent=2, sort_keys=True)
    files["environment.properties"] = _environment(document)
    return files


def _tests(document: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], str, Mapping[str, Any]]]:
    for criterion in document.get("criteria", []):
        for gateway, cell in (criterion.get("gateways") or {}).items():
            for test in cell.get("tests") or []:
                yield criterion, gateway, test


def _result_uuid(seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def _history_id(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def _unlike_a_card_number(ms: int) -> int:
    """`ms`, or the next millisecond or two if its 13 digits pass the Luhn check.

    The redaction masks every number shaped like a card number, epoch milliseconds included one time in ten;
    a timestamp a millisecond late is better than one Allure cannot read.
    """
    while luhn_valid(str(ms)):
        ms += 1
    return ms


def _short(nodeid: str) -> str:
    return nodeid.rsplit("::", 1)[-1]


def _epoch_ms(stamp: object) -> int:
    if not isinstance(stamp, str) or not stamp:
        return 0
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0


def _environment(document: Mapping[str, Any]) -> str:
    run = document["run"]
    lines = {
        "verdict": document.get("verdict", ""),
        "target": run.get("target", ""),
        "run_id": run.get("run_id", ""),
        "seed": run.get("seed", ""),
        "paycert_version": run.get("paycert_version", ""),
    }
    # Java properties: one key=value a line, with newlines in values flattened.
    return "".join(f"{k}={str(v).replace(chr(10), ' ')}\n" for k, v in lines.items())
