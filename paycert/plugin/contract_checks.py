"""Which go-live criterion each schemathesis check evidences (every check maps to exactly one).

One generated run exercises all checks at once; the report shows one row per criterion, so a fault that breaks
one property of the API (a renamed field, an accepted bad amount, a missing token check) turns exactly its own
criterion red and no other.
"""

from __future__ import annotations

CHECK_CRITERIA: dict[str, str] = {
    "not_a_server_error": "CON-SERVER-ERRORS",
    "status_code_conformance": "CON-STATUS",
    "unsupported_method": "CON-STATUS",  # a method the spec does not list must get 405: a status code
    "content_type_conformance": "CON-CONTENT-TYPE",
    "response_headers_conformance": "CON-HEADERS",
    "allow_header_conformance": "CON-HEADERS",  # the Allow header of that 405
    "response_schema_conformance": "CON-SCHEMA",
    "negative_data_rejection": "CON-NEGATIVE",
    "missing_required_header": "CON-NEGATIVE",  # a request without a required header is invalid data
    "positive_data_acceptance": "CON-POSITIVE",
    "ignored_auth": "CON-AUTH",
    "object_level_authorization": "CON-AUTH",
    "use_after_free": "CON-STATEFUL",
    "ensure_resource_availability": "CON-STATEFUL",
}

STATEFUL = "CON-STATEFUL"
CALLBACKS = "CON-CALLBACKS"

# The criteria the generated run evidences, in the order the report lists them.
GENERATED_CRITERIA: tuple[str, ...] = tuple(dict.fromkeys(CHECK_CRITERIA.values()))

# Checks that send data the spec forbids or that change state on purpose: not against a live gateway unless
# the run allows live writes.
FUZZING_CHECKS = frozenset(
    {"negative_data_rejection", "missing_required_header", "unsupported_method", "allow_header_conformance"}
)


def checks_config(*, live_read_only: bool) -> dict[str, object]:
    """schemathesis's `checks` section: exactly the mapped checks, so no result lands outside a criterion."""
    enabled = [c for c in CHECK_CRITERIA if not (live_read_only and c in FUZZING_CHECKS)]
    return {"enabled": False, **{name: {"enabled": True} for name in enabled}}
