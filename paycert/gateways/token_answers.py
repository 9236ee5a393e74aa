"""Why a token answer gave no token, said as what happened: a refusal is not a server error or a redirect.

"The credentials were refused" sends the person running paycert to check secrets that may be fine, so it is
said only for the answers that mean it (401, 403, or the status the profile documents for wrong credentials).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from paycert.gateways.http import HttpAnswer

_SNIPPET_CHARS = 120


def token_trouble(answer: HttpAnswer, pointer: str, auth: Mapping[str, Any]) -> str:
    """One line on a token answer that yielded no token at `pointer` (bodies quoted short; redact the line)."""
    status = answer.status
    refused = {401, 403, int(auth.get("invalid_credentials", {}).get("status", 401))}
    if status in refused:
        return f"the target's credentials were refused by the token endpoint (HTTP {status})"
    if 300 <= status < 400:
        location = answer.headers.get("location")
        to = f" to {location}" if location else ""
        return f"the token endpoint answered HTTP {status}, a redirect{to} (API calls are not redirected)"
    if status >= 500:
        return f"the token endpoint answered HTTP {status}, a server error{_quoted(answer.text)}"
    if status >= 400:
        return f"the token endpoint rejected the token request with HTTP {status}{_quoted(answer.text)}"
    if not answer.text.strip():
        return f"the token endpoint answered HTTP {status} with an empty body"
    media = answer.headers.get("content-type", "").split(";", maxsplit=1)[0].strip().lower()
    if isinstance(answer.body, str) and media.endswith("json"):
        try:
            json.loads(answer.text)
        except ValueError as exc:
            return (
                f"the token endpoint answered HTTP {status} with JSON that does not parse "
                f"({_json_error(exc)}, {len(answer.text)} characters; cut off?)"
            )
    if not isinstance(answer.body, (dict, list)):
        return f"the token endpoint answered HTTP {status} with {media or 'an untyped body'}, not JSON"
    return f"the token endpoint answered HTTP {status} without a token at {pointer}"


def _json_error(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg}, line {exc.lineno} column {exc.colno}"
    return str(exc)


def _quoted(text: str) -> str:
    line = " ".join(text.split())
    if not line:
        return ""
    return f": {line[:_SNIPPET_CHARS]}{'…' if len(line) > _SNIPPET_CHARS else ''}"
