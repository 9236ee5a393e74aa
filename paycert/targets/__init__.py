"""Targets and gateway profiles, loaded and validated into typed objects."""

from __future__ import annotations

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
