"""Targets and gateway profiles, loaded and validated into typed objects."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paycert.targets.home import find_home, specs_dir, suites_dir
    from paycert.targets.profile import Profile, load_profile
    from paycert.targets.spec import ApiSpec, Operation, SchemaViolation
    from paycert.targets.target import GatewayTarget, Target, load_target, target_from_data

__all__ = [
    "ApiSpec",
    "GatewayTarget",
    "Operation",
    "Profile",
    "SchemaViolation",
    "Target",
    "find_home",
    "load_profile",
    "load_target",
    "specs_dir",
    "suites_dir",
    "target_from_data",
]

# Imported on first use (PEP 562): the profile and spec modules pull in the OpenAPI and JSON Schema stack
# (~0.3 s), and importing any small submodule (home, attestations) ran this file; `paycert --help` paid for
# it (issue 15).
_LAZY = {
    "find_home": "home",
    "specs_dir": "home",
    "suites_dir": "home",
    "Profile": "profile",
    "load_profile": "profile",
    "ApiSpec": "spec",
    "Operation": "spec",
    "SchemaViolation": "spec",
    "GatewayTarget": "target",
    "Target": "target",
    "load_target": "target",
    "target_from_data": "target",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"paycert.targets.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
