"""`paycert validate`: profiles, targets and specs checked offline, each problem at its file:line:column.

The broken profiles are copies of a built-in gateway with one thing changed; the line and column each
problem must be reported at are those of the text the test changed, found in the file it wrote.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paycert.targets.problems import Problem
from paycert.targets.reference import REFERENCE, reference_text
from paycert.targets.schema_walk import SchemaWalker, enum_values
from paycert.targets.validate import validate
from paycert.targets.yaml_lines import Mark, load

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ["gustaffo", "txservices", "paylican"]
FOURTH = "tests/fourth_gateway/profile.yaml"


def paycert_validate(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI, from the checkout's root, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "paycert", "validate", *args],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_gateway(tmp_path: Path, name: str, old: str, new: str, *, gateway: str = "gustaffo") -> Path:
    """specs/<gateway> copied to tmp_path/<name>, its profile with `old` (once) replaced by `new`."""
    folder = tmp_path / name
    shutil.copytree(ROOT / "specs" / gateway, folder)
    profile = folder / "profile.yaml"
    text = profile.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in the {gateway} profile"
    profile.write_text(text.replace(old, new), encoding="utf-8")
    return profile


def where(path: Path, text: str, offset_in_text: int = 0, *, after: str | None = None) -> Mark:
    """1-based line and column of `text` in the file (the first one after the text `after`)."""
    content = path.read_text(encoding="utf-8")
    start = content.index(after) if after else 0
    offset = content.index(text, start) + offset_in_text
    line_start = content.rfind("\n", 0, offset) + 1
    return Mark(content.count("\n", 0, offset) + 1, offset - line_start + 1)


def errors_of(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if not p.warning]


# -- the CLI: exit codes and lines ------------------------------------------------------------------------


@pytest.mark.parametrize("profile", [*BUILTIN, FOURTH])
def test_each_builtin_profile_and_the_fourth_gateway_validate_clean(profile: str) -> None:
    result = paycert_validate(profile)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""  # not even a warning
    assert "no errors" in result.stderr


def test_the_sandbox_target_and_the_profiles_it_names_validate_clean() -> None:
    result = paycert_validate("--target", "fixtures/targets/sandbox.yaml")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "4 files checked" in result.stderr  # the target and its three profiles


def test_a_wrong_pointer_a_missing_operation_id_and_a_yaml_error_each_at_its_line_and_column(
    tmp_path: Path,
) -> None:
    pointer = copy_gateway(
        tmp_path,
        "pointer",
        "payment_id: /paymentId\n      redirect_url",
        "payment_id: /paymentID\n      redirect_url",
    )
    operation = copy_gateway(
        tmp_path, "operation", "operation_id: getPayment\n", "operation_id: getPaymentStatus\n"
    )
    syntax = copy_gateway(tmp_path, "syntax", "  token: /access_token\n", "  token: /access_token: x\n")

    result = paycert_validate(str(pointer), str(operation), str(syntax))

    assert result.returncode == 2, result.stdout + result.stderr
    at_pointer = where(pointer, "/paymentID")
    at_operation = where(operation, "getPaymentStatus")
    at_syntax = where(syntax, ": x")  # the second colon is what YAML cannot read
    assert result.stdout.splitlines() == [  # sorted by file: operation/, pointer/, syntax/
        f"{operation}:{at_operation.line}:{at_operation.column}: operationId 'getPaymentStatus' is not in "
        "openapi.yaml (did you mean 'getPayment'?)",
        f"{pointer}:{at_pointer.line}:{at_pointer.column}: /paymentID is not in createPayment's success "
        "response (201 application/json): nothing named 'paymentID' at / (it has amount, createdAt, "
        "currency, expiresAt, orderId, paymentId, redirectUrl, status)",
        f"{syntax}:{at_syntax.line}:{at_syntax.column}: not valid YAML: mapping values are not allowed in "
        "this context",
    ]
    # Independent of the helper: the pointer's value starts after "      payment_id: " on its line.
    assert at_pointer.column == len("      payment_id: ") + 1
    assert at_syntax.column == len("  token: /access_token") + 1
    assert "3 error(s) in 3 files" in result.stderr


def test_a_profile_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    result = paycert_validate(str(tmp_path / "nowhere.yaml"))

    assert result.returncode == 2
    assert "no profile" in result.stdout


def test_the_reference_option_prints_the_generated_reference() -> None:
    result = paycert_validate("--reference")

    assert result.returncode == 0, result.stderr
    assert result.stdout == reference_text()


# -- the checks, in process -------------------------------------------------------------------------------


def test_no_argument_validates_the_builtin_profiles() -> None:
    found = validate()

    assert found.problems == []
    assert sorted(found.checked) == [f"specs/{g}/profile.yaml" for g in sorted(BUILTIN)]


def test_a_status_the_spec_allows_but_the_profile_does_not_map_is_an_error_where_status_is_read(
    tmp_path: Path,
) -> None:
    profile = copy_gateway(tmp_path, "g", "  PARTIALLY_REFUNDED: PARTIALLY_REFUNDED\n", "")

    problems = errors_of(validate(profiles=[str(profile)]).problems)

    # create_payment and get_payment read /status (PaymentStatus); refund's and get_refund's /status is the
    # refund's own enum, which includes PARTIALLY_REFUNDED too; the webhook's data.status is PaymentStatus.
    lines = {p.line for p in problems}
    assert lines == {
        where(profile, "status: /status", 8, after="create_payment:").line,
        where(profile, "status: /status", 8, after="get_payment:").line,
        where(profile, "status: /status", 8, after="refund:").line,
        where(profile, "status: /status", 8, after="get_refund:").line,
        where(profile, "status: /data/status", 8).line,
    }
    assert all("PARTIALLY_REFUNDED" in p.message and "statuses" in p.message for p in problems)


def test_a_webhook_pointer_is_resolved_in_the_webhook_schema(tmp_path: Path) -> None:
    profile = copy_gateway(tmp_path, "g", "payment_id: /data/paymentId", "payment_id: /data/payment_id")

    (problem,) = validate(profiles=[str(profile)]).problems

    at = where(profile, "/data/payment_id")
    assert (problem.line, problem.column) == (at.line, at.column)
    assert "schemas/webhook.json" in problem.message
    assert "paymentId" in problem.message


def test_a_webhook_schema_inside_the_openapi_document_is_followed(tmp_path: Path) -> None:
    good = copy_gateway(
        tmp_path,
        "good",
        "  schema: schemas/webhook.json\n  event_id",
        "  schema: '#/webhooks/paymentEvent'\n  event_id",
    )
    bad = copy_gateway(
        tmp_path,
        "bad",
        "  schema: schemas/webhook.json\n  event_id: /id",
        "  schema: '#/components/schemas/WebhookEvent'\n  event_id: /eventId",
    )

    assert validate(profiles=[str(good)]).problems == []
    (problem,) = validate(profiles=[str(bad)]).problems
    assert problem.line == where(bad, "/eventId").line
    assert "#/components/schemas/WebhookEvent" in problem.message


def test_a_header_field_is_not_looked_for_in_the_body(tmp_path: Path) -> None:
    profile = copy_gateway(tmp_path, "g", "  event_id: /id\n", "  event_id: header:X-Webhook-Id\n")

    assert validate(profiles=[str(profile)]).problems == []


def _two_shaped_webhooks(profile: Path) -> None:
    """The profile's webhook schema made a oneOf of a payment event and a refund event, whose data.status is
    the refund's own (`succeeded`) and whose payment status is elsewhere."""

    def shape(events: dict[str, object], statuses: list[str], **more: object) -> dict[str, object]:
        data = {
            "paymentId": {"type": "string"},
            "amount": {"type": "number"},
            "currency": {"type": "string"},
            "method": {"enum": ["CARD", "PAYPAL"]},
            "status": {"enum": statuses},
        }
        return {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "event": events,
                "data": {"type": "object", "properties": {**data, **more}},
            },
        }

    payment = shape(
        {"enum": ["payment.completed", "payment.failed", "payment.cancelled", "payment.expired"]},
        ["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"],
    )
    refund = shape({"const": "payment.refunded"}, ["succeeded"], payment_status={"enum": ["REFUNDED"]})
    (profile.parent / "schemas" / "webhook.json").write_text(json.dumps({"oneOf": [payment, refund]}))


def test_a_pointer_for_one_event_type_is_resolved_in_that_events_shape_only(tmp_path: Path) -> None:
    general = "  amount: /data/amount\n"
    overridden = general + "  event_fields:\n    payment.refunded:\n      status: /data/payment_status\n"
    good = copy_gateway(tmp_path, "good", general, overridden)
    unmapped = copy_gateway(tmp_path, "unmapped", general, general)
    missing = copy_gateway(
        tmp_path, "missing", general, overridden.replace("/data/payment_status", "/data/state")
    )
    for profile in (good, unmapped, missing):
        _two_shaped_webhooks(profile)

    assert validate(profiles=[str(good)]).problems == []
    (not_mapped,) = validate(profiles=[str(unmapped)]).problems
    (not_there,) = validate(profiles=[str(missing)]).problems

    # Without the override the refund's `succeeded` is read as a payment status: it is not mapped.
    assert not_mapped.line == where(unmapped, "status: /data/status").line
    assert "can be succeeded" in not_mapped.message
    # The override is looked for in the refund event only: it has no `state`.
    assert not_there.line == where(missing, "/data/state").line
    assert (
        "nothing named 'state' at /data (it has amount, currency, method, paymentId, payment_status, status)"
        in not_there.message
    )


def test_an_event_the_webhook_schema_does_not_allow_never_matches(tmp_path: Path) -> None:
    profile = copy_gateway(tmp_path, "g", "    payment.expired: EXPIRED", "    payment.expiry: EXPIRED")

    (problem,) = validate(profiles=[str(profile)]).problems

    assert problem.line == where(profile, "payment.expiry").line
    assert "never matches" in problem.message


def test_the_token_request_may_use_declared_credentials_only(tmp_path: Path) -> None:
    profile = copy_gateway(tmp_path, "g", 'client_secret: "{client_secret}"', 'client_secret: "{secret}"')

    (problem,) = validate(profiles=[str(profile)]).problems

    at = where(profile, '"{secret}"')
    assert (problem.line, problem.column) == (at.line, at.column)
    assert "{secret} is not a declared credential (client_id, client_secret)" in problem.message


def test_a_schema_error_is_placed_at_the_field_it_concerns(tmp_path: Path) -> None:
    profile = copy_gateway(tmp_path, "g", "  decimals: 2\n", "  decimals: 2\n  precision: 2\n")
    outcome = copy_gateway(tmp_path, "o", "    outcome: CHALLENGE\n", "    outcome: THREE_DS\n")

    (unknown,) = validate(profiles=[str(profile)]).problems
    problems = errors_of(validate(profiles=[str(outcome)]).problems)

    at = where(profile, "precision")
    assert (unknown.line, unknown.column) == (at.line, at.column)
    assert unknown.message == "amounts: unknown field 'precision'"
    assert [p.line for p in problems] == [where(outcome, "THREE_DS").line]
    assert "'THREE_DS' is not one of" in problems[0].message


def test_a_key_written_twice_is_an_error_at_the_second(tmp_path: Path) -> None:
    profile = copy_gateway(tmp_path, "g", "  decimals: 2\n", "  decimals: 2\n  decimals: 3\n")

    (problem,) = validate(profiles=[str(profile)]).problems

    assert problem.line == where(profile, "decimals: 3").line
    assert "first at line" in problem.message


def test_a_status_key_yaml_reads_as_a_boolean_must_be_quoted(tmp_path: Path) -> None:
    profile = copy_gateway(tmp_path, "g", "  EXPIRED: EXPIRED\n", "  EXPIRED: EXPIRED\n  off: CANCELLED\n")

    problems = errors_of(validate(profiles=[str(profile)]).problems)

    assert [p.line for p in problems] == [where(profile, "off: CANCELLED").line]
    assert "quote it" in problems[0].message


def test_a_target_names_profiles_and_credentials_that_exist(tmp_path: Path) -> None:
    target = tmp_path / "target.yaml"
    target.write_text(
        "gateways:\n"
        "  gustaffo:\n"
        "    base_url: http://127.0.0.1:1/gustaffo\n"
        "    credentials:\n"
        "      client_id: CID\n"
        "  acme:\n"
        "    profile: acme/profile.yaml\n"
        "    base_url: http://127.0.0.1:1/acme\n",
        encoding="utf-8",
    )

    problems = validate(targets=[target]).problems

    assert [(p.line, p.column) for p in problems] == [(4, 5), (7, 14)]
    assert "needs credentials client_secret" in problems[0].message
    assert "no profile 'acme/profile.yaml'" in problems[1].message


def test_a_broken_spec_is_reported_in_the_spec(tmp_path: Path) -> None:
    profile = copy_gateway(tmp_path, "g", "spec: openapi.yaml", "spec: openapi.yaml")
    spec = profile.parent / "openapi.yaml"
    spec.write_text(
        spec.read_text(encoding="utf-8").replace("openapi: 3.1.0", "openapi: 2.0"), encoding="utf-8"
    )

    (problem,) = validate(profiles=[str(profile)]).problems

    assert (problem.file, problem.line) == (str(spec), 1)
    assert "not an OpenAPI 3 document" in problem.message


# -- the parts --------------------------------------------------------------------------------------------


def test_a_path_through_a_yaml_merge_is_placed_at_the_anchor() -> None:
    path = ROOT / "specs" / "txservices" / "profile.yaml"
    doc = load(path.read_text(encoding="utf-8"))

    # authorize's body is `<<: *card_payment` plus paymentType: its amount is written in create_payment.
    amount = doc.mark(["operations", "authorize", "body", "amount"])
    payment_type = doc.mark(["operations", "authorize", "body", "paymentType"])

    assert amount == where(path, '"{amount}"', after="create_payment:")
    assert payment_type == where(path, "PA", after="authorize:")


def test_pointers_follow_refs_all_of_one_of_and_stop_at_free_form_parts() -> None:
    document = {
        "components": {
            "schemas": {
                "Base": {"type": "object", "properties": {"id": {"type": "string"}}},
                "State": {"enum": ["open", "paid"]},
            }
        }
    }
    schema = {
        "allOf": [{"$ref": "#/components/schemas/Base"}],
        "properties": {
            "state": {"$ref": "#/components/schemas/State"},
            "either": {"oneOf": [{"properties": {"a": {"type": "integer"}}}, {"properties": {"b": {}}}]},
            "items": {"type": "array", "items": {"properties": {"n": {"type": "number"}}}},
            "metadata": {"type": "object"},
        },
    }
    walker = SchemaWalker(document)

    assert walker.walk(schema, "/id").ok
    assert walker.walk(schema, "/either/b").ok
    assert walker.walk(schema, "/items/0/n").ok
    assert walker.walk(schema, "/metadata/anything/below").ok
    assert enum_values(walker.walk(schema, "/state").schemas) == ["open", "paid"]
    missing = walker.walk(schema, "/either/c")
    assert not missing.ok
    assert missing.problem == "nothing named 'c' at /either (it has a, b)"
    assert not walker.walk(schema, "/state/deeper").ok


# -- the profile reference --------------------------------------------------------------------------------


def test_the_committed_profile_reference_is_what_the_schema_generates() -> None:
    committed = (ROOT / REFERENCE).read_text(encoding="utf-8")

    assert committed == reference_text(ROOT / "specs"), (
        "docs/profile-reference.md is out of date: run `paycert validate --reference > docs/profile-reference.md`"
    )


def test_every_field_of_the_reference_has_a_meaning() -> None:
    rows = [
        line
        for line in reference_text(ROOT / "specs").splitlines()
        if line.startswith("| `") and line.count(" | ") >= 3
    ]

    assert rows
    unexplained = [row.split(" | ")[0] for row in rows if row.split(" | ")[2].strip() == ""]
    assert unexplained == [], "fields without a description in specs/profile.schema.json"
