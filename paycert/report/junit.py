"""`junit.xml`: the readiness document in the form CI systems read — one suite per gateway, one case per criterion.

pass is a plain testcase, fail a <failure>, not applicable <skipped>, not evaluated an <error> (it is not a
pass, and it is not the gateway's fault either). Harness errors get a suite of their own so CI shows them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

HARNESS_SUITE = "paycert harness"
# XML 1.0 cannot carry most control characters, even escaped; a captured body may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_junit(document: dict[str, Any]) -> str:
    """The JUnit XML text for one `readiness.json` document."""
    root = ET.Element("testsuites", name="paycert readiness")
    for gateway in document["gateways"]:
        _suite(root, gateway["id"], document)
    if document["harness_errors"]:
        _harness_suite(root, document["harness_errors"])
    _total(root)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(root: ET.Element, gateway: str, document: dict[str, Any]) -> None:
    suite = ET.SubElement(root, "testsuite", name=gateway)
    properties = ET.SubElement(suite, "properties")
    for name, value in (("verdict", document["verdict"]), ("run_id", document["run"]["run_id"])):
        ET.SubElement(properties, "property", name=name, value=_clean(value))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    seconds = 0.0
    for criterion in document["criteria"]:
        cell = criterion["gateways"].get(gateway)
        if cell is None:
            continue
        duration = sum(t["duration_s"] for t in cell["tests"])
        seconds += duration
        case = ET.SubElement(
            suite,
            "testcase",
            classname=criterion["family"],
            name=_clean(f"{criterion['id']} {criterion['title']}"),
            time=f"{duration:.3f}",
        )
        counts["tests"] += 1
        status = cell["status"]
        if status == "fail":
            counts["failures"] += 1
            _outcome(case, "failure", cell, "fail")
        elif status == "not_evaluated":
            counts["errors"] += 1
            _outcome(case, "error", cell, "not_evaluated")
        elif status == "not_applicable":
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=_clean(cell["reason"] or "not applicable"))
    _set_counts(suite, counts, seconds)


def _outcome(case: ET.Element, tag: str, cell: dict[str, Any], outcome: str) -> None:
    element = ET.SubElement(case, tag, message=_clean(cell["reason"]), type=outcome)
    deciding = [t for t in cell["tests"] if t["outcome"] == outcome]
    element.text = _clean("\n\n".join(f"{t['nodeid']}\n{t['reason']}" for t in deciding) or cell["reason"])


def _harness_suite(root: ET.Element, errors: list[str]) -> None:
    suite = ET.SubElement(root, "testsuite", name=HARNESS_SUITE)
    for number, error in enumerate(errors, start=1):
        case = ET.SubElement(
            suite, "testcase", classname="paycert", name=f"harness error {number}", time="0.000"
        )
        ET.SubElement(case, "error", message=_clean(error), type="harness").text = _clean(error)
    _set_counts(suite, {"tests": len(errors), "failures": 0, "errors": len(errors), "skipped": 0}, 0.0)


def _set_counts(element: ET.Element, counts: dict[str, int], seconds: float) -> None:
    for name, value in counts.items():
        element.set(name, str(value))
    element.set("time", f"{seconds:.3f}")


def _total(root: ET.Element) -> None:
    names = ("tests", "failures", "errors", "skipped")
    counts = {n: sum(int(s.get(n, "0")) for s in root.iter("testsuite")) for n in names}
    seconds = sum(float(s.get("time", "0")) for s in root.iter("testsuite"))
    _set_counts(root, counts, seconds)


def _clean(text: str) -> str:
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", text)
