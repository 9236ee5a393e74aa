"""Target files: what to certify, where, with which credentials (read from the environment)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from paycert.core.errors import NotApplicable, TargetError
from paycert.targets.contract_filter import OperationFilter
from paycert.targets.files import read_yaml
from paycert.targets.home import specs_dir
from paycert.targets.profile import Profile, load_profile
from paycert.targets.settings import KpiSettings, SecuritySettings
from paycert.targets.spec import SPEC_FETCH_SECONDS, ApiSpec


@dataclass(frozen=True)
class GatewayTarget:
    """One gateway of a target, its profile loaded and its credentials read."""

    id: str
    profile: Profile | None
    base_url: str
    environment: str = "sandbox"
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    ca_file: Path | None = None
    control_url: str | None = None
    timeout_seconds: float = 10.0
    own_spec: ApiSpec | None = None  # a bring-your-own spec, for a gateway without a profile
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    contract_filter: OperationFilter | None = None  # `contract:`: the operations the contract suites test
    plain_http_url: str | None = None  # where plain HTTP reaches this host (SEC-HTTPS); None: derived
    # A second test client that is not this merchant's (SEC-ACCESS: its token must be refused); {}: none given.
    other_credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Where each value above came from: (credentials|headers|other_client, name) -> environment variable.
    variables: Mapping[tuple[str, str], str] = field(default_factory=dict, repr=False)

    @property
    def plain_http(self) -> str:
        """The URL SEC-HTTPS sends plain HTTP to: the target's `plain_http_url`, else port 80 of the host."""
        if self.plain_http_url:
            return self.plain_http_url.rstrip("/")
        parts = urlsplit(self.base_url)
        host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
        return f"http://{host}{parts.path}"

    @property
    def spec(self) -> ApiSpec:
        if self.profile is not None:
            return self.profile.spec
        assert self.own_spec is not None  # load_target guarantees one of them
        return self.own_spec

    @property
    def title(self) -> str:
        return self.profile.title if self.profile else self.spec.title

    def require_profile(self) -> Profile:
        """The profile, or NotApplicable for a spec-only gateway (only the contract suites apply to it)."""
        if self.profile is None:
            raise NotApplicable(f"{self.id} is given by its spec only; this suite needs a profile")
        return self.profile

    @property
    def is_live(self) -> bool:
        return self.environment == "live"

    @property
    def secrets(self) -> list[str]:
        """Every credential value but the public identifiers, for the redaction of everything written."""
        public = set(self.profile.raw.get("public_credentials", [])) if self.profile else set()
        return (
            [v for k, v in self.credentials.items() if v and k not in public]
            + [v for v in self.headers.values() if v]
            + [v for k, v in self.other_credentials.items() if v and k not in public]
        )

    @property
    def secret_variables(self) -> dict[str, str]:
        """Each secret value -> the environment variable the target reads it from (curl lines refer to it)."""
        public = set(self.profile.raw.get("public_credentials", [])) if self.profile else set()
        found: dict[str, str] = {}
        for section, values in (
            ("credentials", self.credentials),
            ("headers", self.headers),
            ("other_client", self.other_credentials),
        ):
            for name, value in values.items():
                variable = self.variables.get((section, name))
                if value and variable and name not in public:
                    found.setdefault(value, variable)
        return found


@dataclass(frozen=True)
class MerchantGateway:
    """The merchant's endpoints for one gateway, and the webhook secret it verifies that gateway's with."""

    webhook_url: str
    return_url: str
    webhook_secret: str | None = field(default=None, repr=False)
    # The merchant registers its own receiver at the gateway (seed 000 step 6), so the gateway's own webhook
    # reaches it: paycert cannot stage a lost webhook, and signs with the secret the registration got.
    registers_receiver: bool = False
    webhook_secret_variable: str | None = None  # the environment variable the secret was read from


@dataclass(frozen=True)
class MerchantTarget:
    """A merchant integration to certify (specs/merchant/openapi.yaml): paycert plays the gateways at it."""

    base_url: str
    gateways: Mapping[str, MerchantGateway]
    control_url: str | None = None
    ca_file: Path | None = None
    timeout_seconds: float = 10.0
    # How long the merchant may take to reach its final state after a webhook, a return or a clock move:
    # seconds of its clock (the test clock where control_url gives one), walked in settle_real_seconds.
    settle_seconds: float = 65.0
    settle_real_seconds: float = 1.0
    push_url: str | None = None  # its WebSocket of order updates, `{orderId}` in it (seed 004 §3.2)
    push_seconds: float = 5.0

    def for_gateway(self, gateway_id: str) -> MerchantGateway:
        return self.gateways.get(gateway_id) or MerchantGateway(
            f"{self.base_url}/webhooks/{gateway_id}", f"{self.base_url}/return/{gateway_id}"
        )

    @property
    def secrets(self) -> list[str]:
        return [g.webhook_secret for g in self.gateways.values() if g.webhook_secret]

    @property
    def secret_variables(self) -> dict[str, str]:
        return {
            g.webhook_secret: g.webhook_secret_variable
            for g in self.gateways.values()
            if g.webhook_secret and g.webhook_secret_variable
        }


@dataclass(frozen=True)
class Target:
    name: str
    gateways: dict[str, GatewayTarget]
    path: Path | None = None
    webhook_bind: str = "127.0.0.1:0"
    webhook_public_url: str | None = None
    allow_live_writes: bool = False
    live_max_amount: float = 1.0
    merchant: MerchantTarget | None = None
    security: SecuritySettings = field(default_factory=SecuritySettings)
    kpi: KpiSettings = field(default_factory=KpiSettings)
    attestations: Path | None = None  # the attestations file the target names (--attestations overrides it)

    @property
    def secrets(self) -> list[str]:
        merchant = self.merchant.secrets if self.merchant else []
        return [s for g in self.gateways.values() for s in g.secrets] + merchant

    @property
    def secret_variables(self) -> dict[str, str]:
        """Each secret value -> its environment variable, for curl lines that run as pasted."""
        found = dict(self.merchant.secret_variables) if self.merchant else {}
        for gateway in self.gateways.values():
            for value, variable in gateway.secret_variables.items():
                found.setdefault(value, variable)
        return found

    def only(self, gateway_ids: list[str]) -> Target:
        """The same target restricted to some gateways (the --gateway filter)."""
        unknown = sorted(set(gateway_ids) - self.gateways.keys())
        if unknown:
            raise TargetError(
                f"--gateway {', '.join(unknown)}: not in the target ({', '.join(self.gateways)})"
            )
        kept = {k: v for k, v in self.gateways.items() if k in gateway_ids}
        return Target(
            self.name,
            kept,
            self.path,
            self.webhook_bind,
            self.webhook_public_url,
            self.allow_live_writes,
            self.live_max_amount,
            self.merchant,
            self.security,
            self.kpi,
            self.attestations,
        )


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((specs_dir() / "target.schema.json").read_text(encoding="utf-8"))
    return schema


def load_target(path: Path, environ: Mapping[str, str] | None = None) -> Target:
    """Read and validate a target file; credentials come from the environment variables it names."""
    raw = read_yaml(path, TargetError, "target file")
    return target_from_data(raw, base_dir=path.parent, path=path, environ=environ)


def target_from_data(
    raw: Any,
    *,
    base_dir: Path,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Target:
    env = os.environ if environ is None else environ
    where = str(path) if path else "target"
    errors = sorted(
        jsonschema.Draft202012Validator(_schema()).iter_errors(raw),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    if errors:
        at = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
        raise TargetError(f"{where} is invalid at {at}: {errors[0].message}")
    gateways: dict[str, GatewayTarget] = {}
    for gid, entry in raw["gateways"].items():
        profile: Profile | None = None
        own_spec: ApiSpec | None = None
        if "spec" in entry:
            ref = str(entry["spec"])
            own_spec = ApiSpec.from_location(
                ref if ref.startswith(("http://", "https://")) else base_dir / ref,
                fetch_seconds=float(entry.get("timeout_seconds", SPEC_FETCH_SECONDS)),
            )
        else:
            profile = load_profile(entry.get("profile", gid), relative_to=base_dir)
        credentials: dict[str, str] = {}
        variables: dict[tuple[str, str], str] = {}
        names = entry.get("credentials", {})
        missing_names = [c for c in (profile.credentials if profile else []) if c not in names]
        if missing_names:
            raise TargetError(
                f"{where}: gateway {gid} needs credentials {', '.join(missing_names)} (name their environment variables)"
            )
        for credential, variable in names.items():
            value = env.get(variable)
            if not value:
                raise TargetError(
                    f"{where}: gateway {gid}: environment variable {variable} ({credential}) is not set"
                )
            credentials[credential] = value
            variables["credentials", credential] = variable
        headers: dict[str, str] = {}
        for header, variable in entry.get("headers", {}).items():
            value = env.get(variable)
            if not value:
                raise TargetError(
                    f"{where}: gateway {gid}: environment variable {variable} (header {header}) is not set"
                )
            headers[header] = value
            variables["headers", header] = variable
        other: dict[str, str] = {}
        for credential, variable in (entry.get("other_client") or {}).items():
            value = env.get(variable)
            if not value:
                raise TargetError(
                    f"{where}: gateway {gid}: environment variable {variable} (other_client {credential}) is not set"
                )
            other[credential] = value
            variables["other_client", credential] = variable
        ca = entry.get("ca_file")
        gateways[gid] = GatewayTarget(
            id=gid,
            profile=profile,
            base_url=str(entry["base_url"]).rstrip("/"),
            environment=entry.get("environment", "sandbox"),
            credentials=credentials,
            ca_file=(base_dir / ca) if ca else None,
            control_url=entry.get("control_url"),
            timeout_seconds=float(entry.get("timeout_seconds", 10)),
            own_spec=own_spec,
            headers=headers,
            contract_filter=OperationFilter.from_raw(entry.get("contract")),
            plain_http_url=entry.get("plain_http_url"),
            other_credentials=other,
            variables=variables,
        )
    hooks = raw.get("webhooks") or {}
    live = raw.get("live") or {}
    return Target(
        name=str(raw.get("name") or (path.stem if path else "target")),
        gateways=gateways,
        path=path,
        webhook_bind=str(hooks.get("bind", "127.0.0.1:0")),
        webhook_public_url=hooks.get("public_url"),
        allow_live_writes=bool(live.get("allow_writes", False)),
        live_max_amount=float(live.get("max_amount", 1.0)),
        merchant=_merchant(raw.get("merchant"), base_dir, where, env),
        security=SecuritySettings.from_raw(raw.get("security")),
        kpi=KpiSettings.from_raw(raw.get("kpi")),
        attestations=(base_dir / str(raw["attestations"])) if raw.get("attestations") else None,
    )


def _merchant(raw: Any, base_dir: Path, where: str, env: Mapping[str, str]) -> MerchantTarget | None:
    if not raw:
        return None
    base = str(raw["base_url"]).rstrip("/")
    gateways: dict[str, MerchantGateway] = {}
    for gid, entry in (raw.get("gateways") or {}).items():
        secret: str | None = None
        variable = entry.get("webhook_secret")
        if variable:
            secret = env.get(variable)
            if not secret:
                raise TargetError(
                    f"{where}: merchant: environment variable {variable} (webhook secret of {gid}) is not set"
                )
        gateways[gid] = MerchantGateway(
            webhook_url=str(entry.get("webhook_url") or f"{base}/webhooks/{gid}"),
            return_url=str(entry.get("return_url") or f"{base}/return/{gid}"),
            webhook_secret=secret,
            registers_receiver=bool(entry.get("registers_receiver", False)),
            webhook_secret_variable=variable or None,
        )
    ca = raw.get("ca_file")
    return MerchantTarget(
        base_url=base,
        gateways=gateways,
        control_url=raw.get("control_url"),
        ca_file=(base_dir / ca) if ca else None,
        timeout_seconds=float(raw.get("timeout_seconds", 10)),
        settle_seconds=float(raw.get("settle_seconds", 65)),
        settle_real_seconds=float(raw.get("settle_real_seconds", 1)),
        push_url=raw.get("push_url"),
        push_seconds=float(raw.get("push_seconds", 5)),
    )
