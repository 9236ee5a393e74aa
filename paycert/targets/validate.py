"""`paycert validate`: target files, profiles, specs and the pointers between them, checked offline.

A profile is otherwise only checked by a run, one fault at a time and without saying where. Here every
problem is found at once and named as `file:line:column: message`, at the YAML node to change. Nothing is
fetched and no credential is read: a spec given by URL is left unchecked (with a warning), and a target's
environment variables are named, not looked up.

Errors make the exit code 2; warnings (something paycert cannot check, or a field that will never be
read) are printed and leave it 0. The rules, and why each is an error, are in docs/certify-your-gateway.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema

from paycert.targets.home import specs_dir
from paycert.targets.problems import Problem, Sink, shown
from paycert.targets.profile import profile_file
from paycert.targets.profile_checks import check_profile
from paycert.targets.spec_file import SpecFile, load_spec_file
from paycert.targets.yaml_lines import FileSyntaxError, LocatedYaml, load, load_json, read


@dataclass
class Validator:
    """Checks files once each (a profile named by two targets is checked once) and keeps the problems."""

    specs: Path = field(default_factory=specs_dir)
    problems: list[Problem] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    _seen: dict[Path, LocatedYaml | None] = field(default_factory=dict)
    _spec_files: dict[Path, SpecFile | None] = field(default_factory=dict)

    # -- files --------------------------------------------------------------------------------------------

    def read_yaml(self, path: Path, what: str) -> LocatedYaml | None:
        """The file's located YAML; None (and a problem) when it cannot be read or is not YAML."""
        try:
            doc = load(read(path))
        except FileNotFoundError:
            self.problems.append(Problem(shown(path), 1, 1, f"{what} does not exist"))
            return None
        except OSError as exc:
            self.problems.append(Problem(shown(path), 1, 1, f"cannot read {what}: {exc.strerror or exc}"))
            return None
        except FileSyntaxError as exc:
            self.problems.append(Problem(shown(path), exc.mark.line, exc.mark.column, exc.message))
            return None
        sink = Sink(path, doc, self.problems)
        for dup in doc.duplicates:
            sink.at_mark(
                dup.again,
                f"{dup.key!r} is given twice (first at line {dup.first.line}): YAML keeps only this one",
            )
        if not isinstance(doc.data, dict):
            sink.at([], f"a {what} is a mapping of fields, not {_kind(doc.data)}")
            return None
        return doc

    def read_json(self, path: Path, reported_at: Sink, where: Sequence[str | int], what: str) -> Any:
        """A JSON (or YAML) file the profile names; problems in it are placed in it, a missing one at
        the profile's field that names it."""
        try:
            text = read(path)
            return load_json(text) if path.suffix == ".json" else load(text).data
        except (FileNotFoundError, IsADirectoryError):
            reported_at.at(where, f"{what} {shown(path)} does not exist")
        except OSError as exc:
            reported_at.at(where, f"cannot read {what} {shown(path)}: {exc.strerror or exc}")
        except FileSyntaxError as exc:
            self.problems.append(Problem(shown(path), exc.mark.line, exc.mark.column, exc.message))
        return None

    def spec_file(self, path: Path) -> SpecFile | None:
        key = path.resolve()
        if key not in self._spec_files:
            self._spec_files[key] = load_spec_file(path, self.problems)
        return self._spec_files[key]

    def schema(self, name: str) -> dict[str, Any] | None:
        """One of paycert's own schemas, as it is on disk now."""
        path = self.specs / name
        data = self.read_json(path, Sink(path, None, self.problems), [], "schema")
        return data if isinstance(data, dict) else None

    @cached_property
    def profile_schema(self) -> dict[str, Any] | None:
        return self.schema("profile.schema.json")

    @cached_property
    def target_schema(self) -> dict[str, Any] | None:
        return self.schema("target.schema.json")

    # -- profiles and targets -----------------------------------------------------------------------------

    def profile(self, path: Path) -> LocatedYaml | None:
        """Check a profile (once) and return its document, for a target's checks."""
        key = path.resolve()
        if key in self._seen:
            return self._seen[key]
        doc = self.read_yaml(path, "profile")
        self._seen[key] = doc
        self.checked.append(shown(path))
        if doc is not None:
            sink = Sink(path, doc, self.problems)
            if self.profile_schema is not None:
                schema_problems(sink, self.profile_schema, doc.data)
            check_profile(self, sink, doc.data, self.profile_schema or {})
        return doc

    def target(self, path: Path) -> None:
        self.checked.append(shown(path))
        doc = self.read_yaml(path, "target file")
        if doc is None:
            return
        sink = Sink(path, doc, self.problems)
        if self.target_schema is not None:
            schema_problems(sink, self.target_schema, doc.data)
        gateways = doc.data.get("gateways")
        for gid, entry in (gateways or {}).items() if isinstance(gateways, dict) else []:
            if isinstance(entry, dict):
                self._target_gateway(sink, str(gid), entry, path.parent)
        merchant = doc.data.get("merchant")
        listed = merchant.get("gateways") if isinstance(merchant, dict) else None
        for gid in listed if isinstance(listed, dict) else {}:
            if not isinstance(gateways, dict) or gid not in gateways:
                sink.at(
                    ["merchant", "gateways", gid],
                    f"merchant gateway {gid!r} is not a gateway of this target: it is never used",
                    key=True,
                    warning=True,
                )

    def _target_gateway(self, sink: Sink, gid: str, entry: dict[str, Any], base: Path) -> None:
        at = ["gateways", gid]
        for name in ("ca_file",):
            if isinstance(entry.get(name), str) and not (base / entry[name]).is_file():
                sink.at([*at, name], f"{name} {entry[name]} does not exist (relative to the target file)")
        if isinstance(entry.get("spec"), str):
            if entry["spec"].startswith(("http://", "https://")):
                sink.at(
                    [*at, "spec"], "a spec given by URL is not checked (validate is offline)", warning=True
                )
            elif self.spec_file(base / entry["spec"]) is None and not (base / entry["spec"]).is_file():
                sink.at([*at, "spec"], f"spec {entry['spec']} does not exist (relative to the target file)")
            return
        reference = entry.get("profile", gid)
        if not isinstance(reference, str):
            return  # the schema says what is wrong
        path = resolve_profile(reference, base, self.specs)
        if path is None:
            known = ", ".join(builtin_ids(self.specs))
            where = [*at, "profile"] if "profile" in entry else at
            sink.at(
                where,
                f"no profile {reference!r}: not a built-in gateway ({known}) nor a profile file",
                key="profile" not in entry,
            )
            return
        profile = self.profile(path)
        if profile is None:
            return
        needed = profile.data.get("credentials")
        needed = [str(c) for c in needed] if isinstance(needed, list) else []
        named = entry.get("credentials")
        named = named if isinstance(named, dict) else {}
        missing = [c for c in needed if c not in named]
        if missing:
            where = [*at, "credentials"] if "credentials" in entry else at
            sink.at(
                where,
                f"gateway {gid} needs credentials {', '.join(missing)} (name their environment variables)",
                key=True,
            )
        for extra in (c for c in named if c not in needed):
            sink.at(
                [*at, "credentials", extra],
                f"{extra!r} is not a credential of profile {reference!r} ({', '.join(needed)}): never read",
                key=True,
                warning=True,
            )


def schema_problems(sink: Sink, schema: dict[str, Any], data: Any) -> None:
    """Every way `data` breaks `schema`, each at the node it concerns."""
    validator = jsonschema.Draft202012Validator(schema)
    for error in validator.iter_errors(data):
        path = list(error.absolute_path)
        where = "/".join(str(p) for p in path) or "(top)"
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            unexpected = [k for k in error.instance if k not in allowed]
            for key in unexpected or [None]:
                if key is None:
                    sink.at(path, f"{where}: {error.message}")
                else:
                    sink.at([*path, key], f"{where}: unknown field {key!r}", key=True)
        elif error.validator == "propertyNames":
            sink.at([*path, error.instance], f"{where}: {error.message}", key=True)
        else:
            sink.at(path, f"{where}: {error.message}")


def resolve_profile(reference: str, relative_to: Path | None, specs: Path) -> Path | None:
    """The profile file a reference names, exactly as `load_profile` finds it."""
    return profile_file(reference, relative_to, specs)


def builtin_ids(specs: Path) -> list[str]:
    return sorted(p.parent.name for p in specs.glob("*/profile.yaml"))


@dataclass(frozen=True)
class Validation:
    """What `validate` found: the problems, sorted by file and place, and the files it checked."""

    problems: list[Problem]
    checked: list[str]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.warning]


def validate(
    targets: Iterable[Path] = (), profiles: Iterable[str] = (), *, specs: Path | None = None
) -> Validation:
    """Check the targets and profiles given (a built-in id or a path), or the built-in profiles when
    neither is given."""
    validator = Validator(specs or specs_dir())
    targets, profiles = list(targets), list(profiles)
    if not targets and not profiles:
        profiles = [str(validator.specs / i / "profile.yaml") for i in builtin_ids(validator.specs)]
    for target in targets:
        validator.target(target)
    for reference in profiles:
        path = resolve_profile(reference, Path.cwd(), validator.specs)
        if path is None:
            known = ", ".join(builtin_ids(validator.specs))
            message = f"no profile {reference!r}: not a built-in gateway ({known}) nor a profile file"
            validator.problems.append(Problem(reference, 1, 1, message))
        else:
            validator.profile(path)
    return Validation(sorted(set(validator.problems)), validator.checked)


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    names = {str: "a string", list: "a list", bool: "a boolean", int: "a number", float: "a number"}
    return names.get(type(value), f"a {type(value).__name__}")
