"""Profile hooks: Python functions named `module:function` in a profile, for what data cannot say."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from paycert.core.errors import ProfileError

RequestHook = Callable[[str, dict[str, Any], Mapping[str, str]], dict[str, Any]]


@cache
def load_hook(reference: str) -> RequestHook:
    module_name, _, function = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
        hook: RequestHook = getattr(module, function)
    except (ImportError, AttributeError) as exc:
        raise ProfileError(f"profile hook {reference} cannot be loaded: {exc}") from None
    return hook
