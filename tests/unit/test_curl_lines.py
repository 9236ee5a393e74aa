"""A curl line is one shell command whose words are exactly what was sent, with secrets as variable references."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from paycert.gateways.curl import curl_line, token_hint
from paycert.redaction import Redactor, find_leaks

SECRET = "s3cr'et $HOME `id` !"  # what a shell could trip over (and JSON leaves as it is)
TOKEN = "tok-Abc.def_123456"
VARIABLES = {SECRET: "PAYCERT_ACME_CLIENT_SECRET", TOKEN: "PAYCERT_ACME_TOKEN"}

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def words(line: str) -> list[str]:
    """The arguments bash passes to curl for `line`, with the variables set to the secrets."""
    env = {"PATH": "/usr/bin:/bin", **{v: k for k, v in VARIABLES.items()}}
    script = 'curl() { printf "%s\\0" "$@"; }\n' + line
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, check=True).stdout
    return out.decode().split("\0")[:-1]


def test_secrets_become_references_that_expand_to_the_values_sent() -> None:
    redactor = Redactor(variables=VARIABLES)
    body = json.dumps({"client_secret": SECRET, "note": "it's $5 `now`"})
    line = curl_line(
        "post",
        "https://127.0.0.1:1/pay?x=1&y='2'",
        {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", "X-Note": "a $b"},
        body,
        redactor,
    )

    assert SECRET not in line
    assert TOKEN not in line
    assert not find_leaks(line, list(VARIABLES))
    assert "${PAYCERT_ACME_TOKEN}" in line
    assert "${PAYCERT_ACME_CLIENT_SECRET}" in line
    assert words(line) == [
        *("-sS", "-X", "POST", "https://127.0.0.1:1/pay?x=1&y='2'"),
        *(
            "-H",
            f"Authorization: Bearer {TOKEN}",
            "-H",
            "Content-Type: application/json",
            "-H",
            "X-Note: a $b",
        ),
        *("--data-raw", body),
    ]


def test_a_form_secret_is_url_encoded_by_curl_as_the_form_was() -> None:
    line = curl_line(
        "POST",
        "http://127.0.0.1:1/token",
        {"Content-Type": "application/x-www-form-urlencoded"},
        "grant_type=client_credentials&client_secret=s3cr%27et+%24HOME+%60id%60+%21&scope=a+b",
        Redactor(variables=VARIABLES),
    )

    assert words(line)[-6:] == [
        *("--data-raw", "grant_type=client_credentials"),
        *("--data-urlencode", f"client_secret={SECRET}"),
        *("--data-raw", "scope=a+b"),
    ]


def test_a_secret_without_a_variable_or_sent_escaped_is_still_masked() -> None:
    unnamed, quoted = "unnamed-secret-value", 'has "quotes" in it'
    redactor = Redactor([unnamed], {quoted: "PAYCERT_ACME_PASSWORD"})
    line = curl_line(
        "POST", "http://127.0.0.1:1/x", {"authtoken": unnamed}, json.dumps({"pw": quoted}), redactor
    )

    # JSON escapes the quotes, so no shell reference could stand for what was sent: masked, not half-right.
    assert unnamed not in line
    assert "quotes" not in line
    assert "authtoken: ***" in line
    assert '"pw": "***"' in line


def test_the_token_hint_pipes_the_token_request_into_jq_at_the_profiles_pointer() -> None:
    hint = token_hint("acme", "curl -sS http://127.0.0.1:1/token", "/data/access_token")

    assert (
        hint == 'export PAYCERT_ACME_TOKEN="$(curl -sS http://127.0.0.1:1/token | jq -r .data.access_token)"'
    )
    assert token_hint("acme", "curl x", "/odd key") is None  # no plain jq path: no hint, never a wrong one
