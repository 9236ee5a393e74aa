"""A token answer without a token is described as what happened, not always as refused credentials."""

from __future__ import annotations

import httpx
import pytest

from paycert.gateways.bodies import parse
from paycert.gateways.http import HttpAnswer
from paycert.gateways.token_answers import token_trouble

AUTH = {"invalid_credentials": {"status": 401}}


def answer(status: int, body: str = "", content_type: str = "application/json", **headers: str) -> HttpAnswer:
    response = httpx.Response(status, headers={"content-type": content_type, **headers}, text=body)
    return HttpAnswer(status, response.headers, parse(response), body, "http://gw/oauth/token", [], 1.0)


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (
            answer(401, '{"error": "invalid_client"}'),
            "credentials were refused by the token endpoint (HTTP 401)",
        ),
        (answer(500, '{"error": "boom"}'), 'answered HTTP 500, a server error: {"error": "boom"}'),
        (answer(502, "", "text/html"), "answered HTTP 502, a server error"),
        (answer(302, "", "text/plain", location="/login"), "HTTP 302, a redirect to /login"),
        (answer(422, '{"detail": "grant_type"}'), 'rejected the token request with HTTP 422: {"detail"'),
        (answer(200, '{"access_token": "ab'), "JSON that does not parse (Unterminated string"),
        (answer(200, "<html>hi</html>", "text/html"), "answered HTTP 200 with text/html, not JSON"),
        (answer(200, ""), "answered HTTP 200 with an empty body"),
        (answer(200, '{"token": "x"}'), "answered HTTP 200 without a token at /access_token"),
    ],
    ids=["401", "500", "502 empty", "302", "422", "truncated", "html", "empty", "elsewhere"],
)
def test_each_answer_is_said_as_what_happened(given: HttpAnswer, words: str) -> None:
    said = token_trouble(given, "/access_token", AUTH)

    assert words in said
    refused = "credentials were refused" in said
    assert refused == (given.status == 401)
