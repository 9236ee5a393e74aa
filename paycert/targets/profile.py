"""Gateway profiles: the data that makes paycert's generic code certify one particular gateway."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from paycert.core.errors import ProfileError
from paycert.core.pointers import resolve
from paycert.core.states import PaymentState
from paycert.targets.files import read_yaml
from paycert.targets.home import specs_dir
from paycert.targets.spec import ApiSpec


@cache
def _profile_schema(specs: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((specs / "profile.schema.json").read_text(encoding="utf-8"))
    return schema


@dataclass(frozen=True)
class Currency:
    """A currency a gateway takes (profile `currencies`), with its ISO 4217 minor-unit exponent."""

    code: str
    exponent: int


@dataclass(frozen=True)
class Profile:
    """A validated profile and the spec it points at."""

    raw: dict[str, Any]
    path: Path
    spec: ApiSpec

    @property
    def id(self) -> str:
        return str(self.raw["id"])

    @property
    def title(self) -> str:
        return str(self.raw["title"])

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def credentials(self) -> list[str]:
        return list(self.raw["credentials"])

    @property
    def auth(self) -> dict[str, Any]:
        auth: dict[str, Any] = self.raw["auth"]
        return auth

    @property
    def operations(self) -> dict[str, Any]:
        ops: dict[str, Any] = self.raw["operations"]
        return ops

    def offers(self, operation: str) -> bool:
        return operation in self.operations

    @property
    def webhooks(self) -> dict[str, Any]:
        hooks: dict[str, Any] = self.raw["webhooks"]
        return hooks

    @property
    def signature_scheme(self) -> str:
        return str(self.webhooks["signature"]["scheme"])

    @property
    def cards(self) -> dict[str, dict[str, Any]]:
        cards: dict[str, dict[str, Any]] = self.raw["cards"]
        return cards

    def card_with_outcome(self, outcome: str) -> tuple[str, dict[str, Any]] | None:
        """The first test card (by name order in the profile) that gives `outcome`."""
        preferred = {"COMPLETED": "success", "FAILED": "declined", "CHALLENGE": "challenge"}.get(outcome)
        if preferred and preferred in self.cards and self.cards[preferred]["outcome"] == outcome:
            return preferred, self.cards[preferred]
        for name, card in self.cards.items():
            if card["outcome"] == outcome:
                return name, card
        return None

    @property
    def challenge(self) -> dict[str, Any] | None:
        challenge: dict[str, Any] | None = self.raw.get("challenge")
        return challenge

    @property
    def shopper(self) -> dict[str, Any]:
        shopper: dict[str, Any] = self.raw["shopper"]
        return shopper

    @property
    def link_page(self) -> dict[str, Any] | None:
        """The page an invoice's payment link opens (`shopper.link_page`), as a hosted page's `shopper` section:
        its form, fields, submit and cancel default to the hosted page's. None when the gateway has no invoice."""
        own: dict[str, Any] | None = self.shopper.get("link_page")
        if own is None:
            return None
        inherited = {k: v for k, v in self.shopper.items() if k in ("form", "fields", "submit", "cancel")}
        return {**inherited, **own, "kind": "hosted-page"}

    @property
    def return_url(self) -> dict[str, Any]:
        ret: dict[str, Any] = self.raw.get("return_url") or {}
        return ret

    @property
    def amounts(self) -> dict[str, Any]:
        amounts: dict[str, Any] = self.raw.get("amounts") or {}
        return amounts

    @property
    def currencies(self) -> list[Currency]:
        """The currencies the gateway takes, with their minor-unit exponents; without a list, EUR with
        `amounts.decimals` (the currency every scenario pays in)."""
        listed = self.raw.get("currencies") or [{"code": "EUR", "exponent": self.default_decimals}]
        return [Currency(str(c["code"]), int(c["exponent"])) for c in listed]

    @property
    def default_decimals(self) -> int:
        return int(self.amounts.get("decimals", 2))

    def decimals_for(self, currency: str | None) -> int:
        """How many decimals amounts in `currency` have: its listed exponent, else `amounts.decimals`."""
        for listed in self.currencies:
            if listed.code == currency:
                return listed.exponent
        return self.default_decimals

    @property
    def lifecycle(self) -> dict[str, Any]:
        """What the gateway offers of the card lifecycle beyond a plain payment (`lifecycle`); a feature
        missing here is not applicable, for the reason `unsupported` gives."""
        lifecycle: dict[str, Any] = self.raw.get("lifecycle") or {}
        return lifecycle

    @property
    def unsupported(self) -> dict[str, str]:
        """Why the gateway lacks an operation or a feature, by its name (`unsupported`): a scenario's n/a reason."""
        reasons: dict[str, str] = self.raw.get("unsupported") or {}
        return reasons

    @property
    def refunds_by_amount(self) -> bool:
        """No refund status: refunds are read from the refunded amount (`refunds.state: amounts`)."""
        return (self.raw.get("refunds") or {}).get("state") == "amounts"

    def state_of(self, vendor_status: Any) -> PaymentState | None:
        """The canonical state of a vendor status, or None when the profile does not map it."""
        mapped = self.raw["statuses"].get(str(vendor_status))
        return PaymentState(mapped) if mapped else None

    def event_state(self, event_type: str) -> PaymentState | None:
        mapped = self.webhooks.get("events", {}).get(event_type)
        return PaymentState(mapped) if mapped else None

    def _schema_reference(self, name: str) -> str | None:
        relative = (self.raw.get("schemas") or {}).get(name)
        if name == "webhook" and not relative:
            relative = self.webhooks.get("schema")
        return str(relative) if relative else None

    def schema_path(self, name: str) -> Path | None:
        """The file of schema `name`, when it is a file (None for a pointer into the spec)."""
        relative = self._schema_reference(name)
        return self.directory / relative if relative and not relative.startswith("#") else None

    def json_schema(self, name: str) -> dict[str, Any] | None:
        """The JSON Schema `name` (webhook, return_query, error): a file beside the profile, or a pointer
        into the OpenAPI document (`#/components/schemas/Event`), made standalone with the document's
        `components` so its `$ref`s still resolve."""
        reference = self._schema_reference(name)
        if reference is not None and reference.startswith("#"):
            found = resolve(self.spec.document, reference[1:], None)
            if not isinstance(found, dict):
                raise ProfileError(f"{self.id}: schema {name} points at {reference}, which the spec lacks")
            return {**found, "components": self.spec.document.get("components") or {}}
        path = self.schema_path(name)
        if path is None:
            return None
        try:
            loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProfileError(f"{self.id}: cannot read schema {path}: {exc}") from None
        return loaded


# A team's own profiles, next to its target file: `profiles/<id>/profile.yaml` (what `paycert init` makes).
OWN_PROFILES = "profiles"


def profile_file(reference: str, relative_to: Path | None, specs: Path) -> Path | None:
    """The profile.yaml a target's `profile:` (or gateway key) names, None if there is none.

    A gateway id is looked up first in `profiles/<id>/` next to the target (relative_to), then among the
    built-in ones, so a team's own profile of a built-in gateway wins over paycert's and a new id needs no
    `profile:` line; anything else is a path, relative to the target.
    """
    if "/" not in reference and not reference.endswith((".yaml", ".yml")):
        own = relative_to / OWN_PROFILES / reference / "profile.yaml" if relative_to is not None else None
        for candidate in (own, specs / reference / "profile.yaml"):
            if candidate is not None and candidate.is_file():
                return candidate
    path = Path(reference).expanduser()
    if not path.is_absolute() and relative_to is not None:
        path = relative_to / path
    return path if path.is_file() else None


def load_profile(reference: str | Path, *, relative_to: Path | None = None) -> Profile:
    """A gateway id (`gustaffo`: the target's own `profiles/gustaffo/`, else the built-in one) or the path
    of a profile.yaml, validated, with its spec loaded."""
    specs = specs_dir()
    ref = str(reference)
    found = profile_file(ref, relative_to, specs)
    if found is None:
        known = ", ".join(sorted(p.parent.name for p in specs.glob("*/profile.yaml")))
        raise ProfileError(
            f"no profile {ref!r}: not {OWN_PROFILES}/{ref}/profile.yaml beside the target, "
            f"a built-in gateway ({known}) nor a profile file"
        )
    path = found
    raw = read_yaml(path, ProfileError, "profile")
    errors = sorted(
        jsonschema.Draft202012Validator(_profile_schema(specs)).iter_errors(raw),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
        raise ProfileError(f"profile {path} is invalid at {where}: {errors[0].message}")
    spec_ref = str(raw["spec"])
    location: str | Path = (
        spec_ref if spec_ref.startswith(("http://", "https://")) else path.parent / spec_ref
    )
    spec = ApiSpec.from_location(location)
    profile = Profile(raw=raw, path=path, spec=spec)
    _check_operations_exist(profile)
    return profile


def _check_operations_exist(profile: Profile) -> None:
    named = [op["operation_id"] for op in profile.operations.values()]
    if "operation" in profile.auth:
        named.append(profile.auth["operation"]["operation_id"])
    missing = sorted(set(named) - set(profile.spec.operations))
    if missing:
        raise ProfileError(f"profile {profile.path} names operations its spec lacks: {', '.join(missing)}")
