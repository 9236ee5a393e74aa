"""The contract run's credentials, by the spec's security schemes: which header carries which credential.

schemathesis's auth checks can leave a credential out on purpose (`ignored_auth`: is a request without it, or
with a wrong one, refused?) only when they know which header carries it, so the target's headers are given to
it as the credentials of the schemes the tested operations use. The rules:

- A header is sent exactly as written. It becomes a scheme's credential only when some tested operation uses
  that scheme and the value fits it (`Bearer ...` for http bearer); the operations that do not use the scheme
  still get it as a plain header. An unused scheme (Square's apiKey on `Authorization`) takes nothing.
- OAuth2 schemes (clientCredentials and password flows) and OpenID Connect get their token from the flow's
  `tokenUrl` with the target's credentials `client_id`, `client_secret`, `username`, `password` (or use the
  target's own `Authorization: Bearer` header). schemathesis has no OAuth2 support: its `ignored_auth` check
  skips such schemes and reports success. It is therefore shown them as what they are on the wire, `http
  bearer`, so it really sends the requests without and with a wrong token.
- A scheme paycert cannot apply (no credential given, an interactive flow, mutual TLS, an unknown type) is
  named with the reason, and an operation that needs it is not tested: it is never a pass.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

BEARER_PREFIX = "Bearer "
TOKEN_FLOWS = ("clientCredentials", "password")  # flows a harness can run without a person
INTERACTIVE_FLOWS = ("authorizationCode", "implicit")


@dataclass(frozen=True)
class AuthPlan:
    """What schemathesis gets: the document it tests, its auth entries and the headers sent as they are."""

    document: dict[str, Any]  # OAuth2 / OpenID Connect schemes rewritten as the http bearer they are
    auth: dict[str, dict[str, str]]  # schemathesis `auth.openapi` entries, by scheme name
    headers: dict[str, str]  # sent with every request
    per_operation: dict[str, dict[str, str]]  # label -> credential headers of schemes it does not use
    unapplied: dict[str, str]  # scheme name -> why paycert cannot apply it
    unauthenticated: dict[str, str]  # label -> why none of its security alternatives can be met
    credential_headers: frozenset[str]  # lower-case names of the headers that carry credentials
    tokens: tuple[str, ...] = field(default=(), repr=False)  # fetched tokens, for the redaction


@dataclass(frozen=True)
class TokenSettings:
    """How to reach token endpoints: the same TLS and timeout as the contract run."""

    base_url: str
    servers: tuple[str, ...] = ()  # the spec's server URLs, which `base_url` stands in for
    verify: bool | str = True
    timeout: float = 10.0


class TokenError(Exception):
    """A token endpoint did not give a token: what it answered, in one line."""


def security_requirements(document: Mapping[str, Any], operation: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The operation's security alternatives (its own, else the document's); `{}` means none needed."""
    raw = operation.get("security", document.get("security", []))
    return [r for r in raw if isinstance(r, dict)] if isinstance(raw, list) else []


def security_schemes(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`components.securitySchemes`, local `$ref`s followed."""
    raw = (document.get("components") or {}).get("securitySchemes") or {}
    if not isinstance(raw, dict):
        return {}
    return {
        name: resolved
        for name, scheme in raw.items()
        if isinstance(resolved := _follow(document, scheme), dict)
    }


def plan_auth(
    document: dict[str, Any],
    operations: Mapping[str, Mapping[str, Any]],
    headers: Mapping[str, str],
    credentials: Mapping[str, str],
    settings: TokenSettings,
) -> AuthPlan:
    """Map the target's headers and credentials onto the schemes `operations` (by label) use."""
    schemes = security_schemes(document)
    used = list(
        dict.fromkeys(
            name for op in operations.values() for r in security_requirements(document, op) for name in r
        )
    )
    auth: dict[str, dict[str, str]] = {}
    carried: dict[str, dict[str, str]] = {}  # scheme -> the headers (as written) that are its credential
    unapplied: dict[str, str] = {}
    rewritten: dict[str, dict[str, Any]] = {}
    tokens: list[str] = []
    for name in used:
        scheme = schemes.get(name)
        if scheme is None:
            unapplied[name] = "not defined in components.securitySchemes"
            continue
        try:
            entry, header = _credential(name, scheme, headers, credentials, settings, tokens)
        except _Unapplied as exc:
            unapplied[name] = str(exc)
            continue
        auth[name] = entry
        if header is not None:
            carried[name] = header
        if str(scheme.get("type", "")).lower() in ("oauth2", "openidconnect"):
            rewritten[name] = {"type": "http", "scheme": "bearer", "description": f"OAuth2 scheme {name}"}
    consumed = {h.lower() for header in carried.values() for h in header}
    plain = {k: v for k, v in headers.items() if k.lower() not in consumed}
    per_operation: dict[str, dict[str, str]] = {}
    unauthenticated: dict[str, str] = {}
    for label, op in operations.items():
        requirements = security_requirements(document, op)
        applied = _applied(requirements, auth)
        if applied is None:
            needed = sorted({n for r in requirements for n in r if n not in auth})
            unauthenticated[label] = "; ".join(
                f"security scheme {n} cannot be applied: {unapplied.get(n, 'no credential')}" for n in needed
            )
            continue
        sent = {h.lower() for n in applied for h in carried.get(n, {})}
        extra = {h: v for header in carried.values() for h, v in header.items() if h.lower() not in sent}
        if extra:
            per_operation[label] = extra
    return AuthPlan(
        document=_with_schemes(document, rewritten),
        auth=auth,
        headers=plain,
        per_operation=per_operation,
        unapplied=unapplied,
        unauthenticated=unauthenticated,
        credential_headers=frozenset({"authorization", *consumed, *_api_key_headers(schemes, used)}),
        tokens=tuple(tokens),
    )


class _Unapplied(Exception):
    """A used scheme paycert cannot fill: the message says why."""


def _credential(
    name: str,
    scheme: Mapping[str, Any],
    headers: Mapping[str, str],
    credentials: Mapping[str, str],
    settings: TokenSettings,
    tokens: list[str],
) -> tuple[dict[str, str], dict[str, str] | None]:
    """The schemathesis auth entry for one scheme, and the target header it stands for (if any)."""
    kind = str(scheme.get("type", "")).lower()
    authorization = _header(headers, "Authorization")
    if kind == "http":
        http = str(scheme.get("scheme", "")).lower()
        if http == "bearer":
            if authorization is None or not authorization[1].startswith(BEARER_PREFIX):
                raise _Unapplied("the target gives no `Authorization: Bearer ...` header")
            return {"bearer": authorization[1][len(BEARER_PREFIX) :]}, dict([authorization])
        if http == "basic":
            if authorization is None:
                raise _Unapplied("the target gives no `Authorization: Basic ...` header")
            return _basic(authorization[1]), dict([authorization])
        raise _Unapplied(f"http {http or '(no scheme)'} authentication is not supported by paycert")
    if kind == "apikey":
        where = scheme.get("in")
        if where != "header":
            raise _Unapplied(
                f"an API key in the {where or '(unknown)'} cannot be given by the target's headers"
            )
        found = _header(headers, str(scheme.get("name", "")))
        if found is None:
            raise _Unapplied(f"the target gives no `{scheme.get('name')}` header")
        return {"api_key": found[1]}, dict([found])
    if kind in ("oauth2", "openidconnect"):
        if authorization is not None and authorization[1].startswith(BEARER_PREFIX):
            # The target's own token (a profile gateway's, or a static one) is used as it is.
            return {"bearer": authorization[1][len(BEARER_PREFIX) :]}, dict([authorization])
        token = _oauth2_token(name, scheme, credentials, settings)
        tokens.append(token)
        return {"bearer": token}, None
    raise _Unapplied(f"{scheme.get('type') or '(no type)'} schemes are not supported by paycert")


def _basic(value: str) -> dict[str, str]:
    if not value.startswith("Basic "):
        raise _Unapplied("the target gives no `Authorization: Basic ...` header")
    try:
        user, sep, password = base64.b64decode(value[6:], validate=True).decode("latin-1").partition(":")
    except (binascii.Error, ValueError):
        raise _Unapplied(
            "the target's `Authorization: Basic` header is not base64 of user:password"
        ) from None
    if not sep:
        raise _Unapplied("the target's `Authorization: Basic` header has no user:password")
    return {"username": user, "password": password}


def _oauth2_token(
    name: str, scheme: Mapping[str, Any], credentials: Mapping[str, str], settings: TokenSettings
) -> str:
    """A token from the first flow paycert can run with the target's credentials."""
    if str(scheme.get("type", "")).lower() == "openidconnect":
        raise _Unapplied(
            "OpenID Connect discovery is not run by paycert: give the token as an `Authorization: Bearer` header"
        )
    flows: dict[str, Any] = scheme["flows"] if isinstance(scheme.get("flows"), dict) else {}
    missing: list[str] = []
    for flow_name in TOKEN_FLOWS:
        flow = flows.get(flow_name)
        if not isinstance(flow, dict) or not flow.get("tokenUrl"):
            continue
        needs = (
            ("client_id", "client_secret") if flow_name == "clientCredentials" else ("username", "password")
        )
        lacking = [c for c in needs if not credentials.get(c)]
        if lacking:
            missing.append(f"{flow_name} needs the target's credentials {', '.join(lacking)}")
            continue
        url = token_url(str(flow["tokenUrl"]), settings)
        try:
            return request_token(url, flow_name, credentials, settings)
        except TokenError as exc:
            raise _Unapplied(f"{flow_name} token from {url}: {exc}") from None
    if missing:
        raise _Unapplied("; ".join(missing))
    interactive = [f for f in INTERACTIVE_FLOWS if f in flows]
    if interactive:
        raise _Unapplied(
            f"only the {', '.join(interactive)} flow, which needs a person to consent; "
            "give a token as an `Authorization: Bearer` header"
        )
    raise _Unapplied(f"OAuth2 scheme {name} has no flow with a tokenUrl")


def token_url(raw: str, settings: TokenSettings) -> str:
    """The flow's `tokenUrl`, moved to the target the way operations are (the spec's server -> base_url).

    A token URL on the spec's server (or on its host: PayPal's `/v1/oauth2/token` beside `/v2/checkout`)
    is asked of the target instead; a relative one is relative to the target's base URL.
    """
    base = settings.base_url.rstrip("/")
    parts = urlsplit(raw)
    for server in settings.servers:
        prefix = server.rstrip("/")
        where = urlsplit(prefix)
        if not where.netloc:
            continue
        if raw.startswith(prefix):
            return base + raw[len(prefix) :]
        if (parts.scheme, parts.netloc) == (where.scheme, where.netloc):
            # The same host: keep whatever the target mounts the spec's server path under.
            target = urlsplit(base)
            mount = target.path.removesuffix(where.path.rstrip("/")) if where.path.strip("/") else target.path
            return f"{target.scheme}://{target.netloc}{mount.rstrip('/')}{parts.path}" + (
                f"?{parts.query}" if parts.query else ""
            )
    if parts.scheme:
        return raw
    return urljoin(base + "/", raw)


def request_token(url: str, flow: str, credentials: Mapping[str, str], settings: TokenSettings) -> str:
    """RFC 6749 token request: client authentication by HTTP Basic first, in the form body if that is refused."""
    form = {"grant_type": "client_credentials"}
    if flow == "password":
        form = {
            "grant_type": "password",
            "username": credentials["username"],
            "password": credentials["password"],
        }
    client_id, secret = credentials.get("client_id"), credentials.get("client_secret")
    attempts: list[tuple[dict[str, str], httpx.BasicAuth | None]] = []
    if client_id and secret:
        attempts = [
            (form, httpx.BasicAuth(client_id, secret)),
            ({**form, "client_id": client_id, "client_secret": secret}, None),
        ]
    else:
        attempts = [({**form, "client_id": client_id} if client_id else form, None)]
    problem = ""
    with httpx.Client(verify=settings.verify, timeout=settings.timeout, follow_redirects=False) as http:
        for body, basic in attempts:
            try:
                response = http.post(
                    url,
                    data=body,
                    auth=basic or httpx.USE_CLIENT_DEFAULT,
                    headers={"Accept": "application/json"},
                )
            except httpx.HTTPError as exc:
                raise TokenError(f"no answer ({type(exc).__name__}: {exc})") from None
            problem = _token_problem(response)
            if not problem:
                return str(response.json()["access_token"])
            if response.status_code not in (400, 401):  # only a refused client authentication is retried
                break
    raise TokenError(problem)


def _token_problem(response: httpx.Response) -> str:
    """Why this answer is not a token, said as it is (a 500 is not "credentials refused")."""
    status = response.status_code
    snippet = response.text[:200].replace("\n", " ")
    if not 200 <= status < 300:
        return f"answered HTTP {status}: {snippet}"
    try:
        body = response.json()
    except ValueError:
        return f"answered HTTP {status} with a body that is not JSON: {snippet}"
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("access_token"), str)
        or not body["access_token"]
    ):
        return f"answered HTTP {status} without an access_token"
    return ""


def _applied(requirements: list[dict[str, Any]], auth: Mapping[str, Any]) -> list[str] | None:
    """The schemes applied to an operation, as schemathesis picks them: the first alternative it can meet."""
    if not requirements or {} in requirements:
        return []
    for requirement in requirements:
        if all(name in auth for name in requirement):
            return list(requirement)
    return None


def _header(headers: Mapping[str, str], name: str) -> tuple[str, str] | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return key, value
    return None


def _api_key_headers(schemes: Mapping[str, Mapping[str, Any]], used: Iterable[str]) -> set[str]:
    return {
        str(schemes[n].get("name", "")).lower()
        for n in used
        if n in schemes
        and str(schemes[n].get("type", "")).lower() == "apikey"
        and schemes[n].get("in") == "header"
    }


def _with_schemes(document: dict[str, Any], rewritten: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The document with some schemes replaced; the caller's document is left as it is."""
    if not rewritten:
        return document
    components = dict(document.get("components") or {})
    components["securitySchemes"] = {**(components.get("securitySchemes") or {}), **rewritten}
    return {**document, "components": components}


def _follow(document: Mapping[str, Any], node: Any) -> Any:
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        ref = node["$ref"]
        if ref in seen:
            return None
        seen.add(ref)
        target: Any = document
        for part in ref[2:].split("/"):
            target = (
                target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
            )
        node = target
    return node
