"""What a run was: when, against what, with which selection, and what kept paycert from running something."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from paycert.redaction import unmasked_id

Environment = Literal["sandbox", "live"]


@dataclass(frozen=True)
class GatewayInfo:
    """One gateway certified by the run."""

    id: str
    title: str = ""
    base_url: str = ""
    environment: Environment = "sandbox"
    source: str = ""  # where its profile was written from
    notes: tuple[str, ...] = ()  # its profile's notes: findings about the gateway's design, for integrators

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "base_url": self.base_url,
            "environment": self.environment,
            "source": self.source,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> GatewayInfo:
        environment = raw.get("environment", "sandbox")
        if environment not in ("sandbox", "live"):
            raise ValueError(
                f"gateway {raw.get('id')!r}: environment must be sandbox or live, not {environment!r}"
            )
        return cls(
            id=str(raw["id"]),
            title=str(raw.get("title", "")),
            base_url=str(raw.get("base_url", "")),
            environment=environment,
            source=str(raw.get("source", "")),
            notes=tuple(str(n) for n in raw.get("notes") or ()),
        )


@dataclass(frozen=True)
class Selection:
    """What the person running paycert asked for (empty means everything)."""

    suites: tuple[str, ...] = ()
    criteria: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()
    keyword: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "suites": list(self.suites),
            "criteria": list(self.criteria),
            "gateways": list(self.gateways),
            "keyword": self.keyword,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Selection:
        return cls(
            suites=tuple(raw.get("suites") or ()),
            criteria=tuple(raw.get("criteria") or ()),
            gateways=tuple(raw.get("gateways") or ()),
            keyword=str(raw.get("keyword") or ""),
        )

    def describe(self) -> str:
        """One line for people: `suites: contract, webhooks; gateways: gustaffo` or `everything`."""
        parts = [
            f"{name}: {', '.join(values)}"
            for name, values in (
                ("suites", self.suites),
                ("criteria", self.criteria),
                ("gateways", self.gateways),
            )
            if values
        ]
        if self.keyword:
            parts.append(f"keyword: {self.keyword}")
        return "; ".join(parts) or "everything"


def collection_digest(nodeids: Iterable[str]) -> str:
    """`ShardInfo.collection`: the same for the same test ids, whatever order they were collected in.

    The merge computes it again from the tests the workers claimed and compares it with the one the report
    stored, so it must be a digest the redaction leaves alone.
    """
    return unmasked_id(_short_digest, "\n".join(sorted(nodeids)))


def _short_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ShardInfo:
    """This run was one shard of a split run (`paycert run --shard K/N`): its verdict covers only its own tests.

    The facts the merge checks: every shard collected the same tests (`collection`, a digest of the whole
    selection's test ids) and split them on the same durations, so together they ran each test exactly once.
    """

    index: int
    total: int
    tests: int  # tests the whole selection collected, before the split
    collection: str
    durations_from: str = ""  # the run whose durations balanced the split; "" for round-robin
    # The criteria the whole selection's tests evidence: what the merged report owes a status.
    scope: tuple[str, ...] = ()
    # `paycert run -n`'s workers claim units as they free up: the tests this shard claimed. None when the
    # split was fixed in advance (every shard computes it from the collection and the durations).
    claimed: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "total": self.total,
            "tests": self.tests,
            "collection": self.collection,
            "durations_from": self.durations_from,
            "scope": list(self.scope),
            **({} if self.claimed is None else {"claimed": list(self.claimed)}),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ShardInfo:
        return cls(
            index=int(raw["index"]),
            total=int(raw["total"]),
            tests=int(raw.get("tests", 0)),
            collection=str(raw.get("collection", "")),
            durations_from=str(raw.get("durations_from", "")),
            scope=tuple(str(c) for c in raw.get("scope") or ()),
            claimed=None if raw.get("claimed") is None else tuple(str(t) for t in raw["claimed"]),
        )

    def describe(self) -> str:
        return f"shard {self.index} of {self.total}"


@dataclass(frozen=True)
class RunInfo:
    """The facts about one run that the report states next to its verdict."""

    run_id: str
    started_at: str
    finished_at: str
    target: str = "embedded sandbox"
    gateways: tuple[GatewayInfo, ...] = ()
    seed: int | None = None
    paycert_version: str = ""
    selection: Selection = field(default_factory=Selection)
    harness_errors: tuple[str, ...] = ()
    # The criterion ids the run selected; None means the whole catalogue.
    in_scope: tuple[str, ...] | None = None
    command: str = ""  # the command line as typed (redacted), to run it again
    target_file: str = ""  # the target file, for rerun commands ("" for the embedded sandbox)
    faults: tuple[str, ...] = ()  # sandbox faults injected on purpose: a rehearsal, not a certification
    versions: dict[str, str] = field(default_factory=dict)  # paycert's and its engines' versions
    shard: ShardInfo | None = None  # set on one shard of a split run: its verdict is not the release's
    merged_from: tuple[str, ...] = ()  # the shard runs `paycert merge` combined into this report

    @property
    def gateway_ids(self) -> tuple[str, ...]:
        return tuple(g.id for g in self.gateways)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "target": self.target,
            "gateways": [g.to_dict() for g in self.gateways],
            "seed": self.seed,
            "paycert_version": self.paycert_version,
            "selection": self.selection.to_dict(),
            "harness_errors": list(self.harness_errors),
            "in_scope": None if self.in_scope is None else list(self.in_scope),
            "command": self.command,
            "target_file": self.target_file,
            "faults": list(self.faults),
            "versions": dict(self.versions),
        } | self._split_dict()

    def _split_dict(self) -> dict[str, Any]:
        # Only a shard or a merge carries these, so the documents of ordinary runs keep their shape.
        extra: dict[str, Any] = {}
        if self.shard is not None:
            extra["shard"] = self.shard.to_dict()
        if self.merged_from:
            extra["merged_from"] = list(self.merged_from)
        return extra

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunInfo:
        in_scope = raw.get("in_scope")
        seed = raw.get("seed")
        return cls(
            run_id=str(raw["run_id"]),
            started_at=str(raw.get("started_at", "")),
            finished_at=str(raw.get("finished_at", "")),
            target=str(raw.get("target", "embedded sandbox")),
            gateways=tuple(GatewayInfo.from_dict(g) for g in raw.get("gateways", [])),
            seed=None if seed is None else int(seed),
            paycert_version=str(raw.get("paycert_version", "")),
            selection=Selection.from_dict(raw.get("selection") or {}),
            harness_errors=tuple(str(e) for e in raw.get("harness_errors", [])),
            in_scope=None if in_scope is None else tuple(str(i) for i in in_scope),
            command=str(raw.get("command", "")),
            target_file=str(raw.get("target_file", "")),
            faults=tuple(str(f) for f in raw.get("faults", [])),
            versions={str(k): str(v) for k, v in (raw.get("versions") or {}).items()},
            shard=ShardInfo.from_dict(raw["shard"]) if raw.get("shard") else None,
            merged_from=tuple(str(r) for r in raw.get("merged_from") or ()),
        )

    def rerun(self, gateway: str, criterion: str) -> str:
        """The command that certifies one criterion on one gateway again, as this run did."""
        parts = ["paycert", "run"]
        if self.target_file:
            parts += ["--target", self.target_file]
        for fault in self.faults:
            parts += ["--sandbox-fault", fault]
        parts += ["-g", gateway, "-c", criterion]
        if self.seed is not None:
            parts += ["--seed", str(self.seed)]
        return shlex.join(parts)
