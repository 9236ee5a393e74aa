"""A curl command line that reproduces a request and runs as pasted: secrets are `"$VARIABLE"` references.

A secret the run knows the environment variable of (the target's credentials, webhook secrets, a token:
`Redactor.variables`) is written as a shell reference to that variable, so the line runs in a shell where the
user has set it, and the value itself is never written. Everything else is redacted as usual and single-quoted,
and the reference is double-quoted right beside it (`'Authorization: Bearer '"$PAYCERT_GUSTAFFO_TOKEN"`, or one
double-quoted word where the literal text holds nothing the shell would expand). A secret without a variable
stays `***`: that line says so and does not pretend to run.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from paycert.redaction import MASK, Redactor, is_sensitive_key

__all__ = ["curl_line", "token_variable"]

_Redact = Callable[[str], str]
_SKIPPED = {"content-length", "host", "accept-encoding", "connection", "user-agent"}
# Characters that keep their meaning inside double quotes; a literal holding none of them can share the quotes.
_DOUBLE_QUOTE_SPECIAL = re.compile(r"[$`\\\"!]")
# A scheme word before a credential (`Bearer `): the only literal text kept in a credential header.
_SCHEME_WORD = re.compile(r"[A-Za-z]*[ \t]*")


def token_variable(gateway_id: str) -> str:
    """The variable the curl lines of a gateway's authenticated requests read the bearer token from."""
    return f"PAYCERT_{re.sub(r'[^A-Z0-9]', '_', gateway_id.upper())}_TOKEN"


def curl_line(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: str | None,
    redactor: Redactor | None = None,
    *,
    ca_file: Path | None = None,
) -> str:
    """The request as a curl command line.

    Without a redactor the parts must already be redacted (they are only quoted). With one, they are the
    parts as sent: known secrets with a variable become references, everything else is redacted here.
    """
    safe = redactor or Redactor()
    variables = safe.variables if redactor is not None else {}
    parts = ["curl", "-sS", "-X", method.upper(), _word(url, variables, safe.url)]
    if ca_file is not None:
        parts += [
            "--cacert",
            shlex.quote(str(ca_file)),
        ]  # the target's own CA: the line verifies as paycert did
    content_type = ""
    for name, value in headers.items():
        if name.lower() == "content-type":
            content_type = value.lower()
        if name.lower() in _SKIPPED:
            continue
        parts += ["-H", _header(name, value, variables, safe)]
    if body:
        if "x-www-form-urlencoded" in content_type and variables:
            parts += _form(body, variables, safe)
        else:
            parts += ["--data-raw", _word(body, variables, safe.text)]
    # The last line of defence: a value the pieces above let through is masked in the line as a whole too.
    return safe.text(" ".join(parts))


def _header(name: str, value: str, variables: Mapping[str, str], safe: Redactor) -> str:
    pieces = _split(value, variables)
    if not any(isinstance(p, _Reference) for p in pieces):
        return shlex.quote(f"{name}: {safe.headers({name: value})[name]}")
    if is_sensitive_key(name):
        # Around a reference, a credential header keeps only its scheme word: any other literal text
        # could be (part of) a credential without a variable.
        pieces = [p if isinstance(p, _Reference) or _SCHEME_WORD.fullmatch(p) else MASK for p in pieces]
    return _quote([f"{name}: ", *pieces], safe.text)


def _form(body: str, variables: Mapping[str, str], safe: Redactor) -> list[str]:
    """A form body as curl arguments: a field holding a secret is `--data-urlencode 'name='"$VAR"` (curl
    encodes the variable's value as the form did), runs of other fields one redacted `--data-raw`."""
    args: list[str] = []
    plain: list[tuple[str, str]] = []
    for key, value in parse_qsl(body, keep_blank_values=True):
        if value in variables:
            if plain:
                args += ["--data-raw", shlex.quote(safe.form(urlencode(plain)))]
                plain = []
            args += ["--data-urlencode", _quote([f"{key}=", _Reference(variables[value])], safe.text)]
        else:
            plain.append((key, value))
    if plain:
        args += ["--data-raw", shlex.quote(safe.form(urlencode(plain)))]
    return args


class _Reference(str):
    """The name of an environment variable standing where a secret was."""


def _split(text: str, variables: Mapping[str, str]) -> list[str]:
    """`text` as literal pieces and references, each known secret (longest first) replaced by its variable."""
    pieces: list[str] = [text]
    for secret in sorted(variables, key=len, reverse=True):
        split: list[str] = []
        for piece in pieces:
            if isinstance(piece, _Reference) or secret not in piece:
                split.append(piece)
                continue
            for index, literal in enumerate(piece.split(secret)):
                if index:
                    split.append(_Reference(variables[secret]))
                split.append(literal)
        pieces = split
    return [p for p in pieces if p or isinstance(p, _Reference)]


def _word(text: str, variables: Mapping[str, str], redact: _Redact) -> str:
    pieces = _split(text, variables)
    if not any(isinstance(p, _Reference) for p in pieces):
        return shlex.quote(redact(text))
    return _quote(pieces, redact)


def _quote(pieces: list[str], redact: _Redact) -> str:
    """One shell word: literal pieces redacted and quoted, references expanded (and never word-split)."""
    literals = [redact(p) for p in pieces if not isinstance(p, _Reference)]
    if not any(_DOUBLE_QUOTE_SPECIAL.search(literal) for literal in literals):
        return '"' + "".join(_expansion(p) if isinstance(p, _Reference) else redact(p) for p in pieces) + '"'
    return "".join(
        f'"{_expansion(p)}"' if isinstance(p, _Reference) else shlex.quote(redact(p)) for p in pieces
    )


def _expansion(reference: str) -> str:
    # Braces always: `$VAR` followed by a letter of the literal text would name another variable.
    return f"${{{reference}}}"


def token_hint(gateway_id: str, token_curl: str, pointer: str) -> str | None:
    """The line that sets a gateway's token variable from its token request: the recorded curl line, piped
    into jq at the profile's token pointer. None where that pointer has no plain jq path."""
    path = ""
    for segment in pointer.split("/")[1:]:
        key = segment.replace("~1", "/").replace("~0", "~")
        if key.isdigit():
            path += f"[{key}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            path += f".{key}"
        else:
            return None
    if not path or not token_curl:
        return None
    return f'export {token_variable(gateway_id)}="$({token_curl} | jq -r {shlex.quote(path)})"'
