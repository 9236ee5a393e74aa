"""Profile templates: `{amount}`, `{card.number}`, ... filled from a run context.

A string that is exactly one placeholder keeps the value's type (a number stays a number in JSON); any other
string is formatted. Dicts and lists are filled recursively; a key whose value is missing from the context
(`None`) is dropped, so optional fields stay optional.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from paycert.core.errors import ProfileError

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")
_MISSING = object()


def lookup(context: Mapping[str, Any], name: str) -> Any:
    """`card.number` looks up context["card"]["number"] or context["card.number"]."""
    if name in context:
        return context[name]
    current: Any = context
    for part in name.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif hasattr(current, part):
            current = getattr(current, part)
        else:
            return _MISSING
    return current


def fill(template: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            value = lookup(context, whole.group(1))
            if value is _MISSING:
                raise ProfileError(f"template {template!r}: nothing named {whole.group(1)!r} in this run")
            return value

        def one(match: re.Match[str]) -> str:
            value = lookup(context, match.group(1))
            if value is _MISSING or value is None:
                raise ProfileError(f"template {template!r}: nothing named {match.group(1)!r} in this run")
            return str(value)

        return _PLACEHOLDER.sub(one, template)
    if isinstance(template, Mapping):
        filled = {key: fill(value, context) for key, value in template.items()}
        return {key: value for key, value in filled.items() if value is not None}
    if isinstance(template, list):
        return [fill(item, context) for item in template]
    return template


def placeholders(template: Any) -> set[str]:
    """Every placeholder name a template uses."""
    if isinstance(template, str):
        return set(_PLACEHOLDER.findall(template))
    if isinstance(template, Mapping):
        return set().union(*(placeholders(v) for v in template.values())) if template else set()
    if isinstance(template, list):
        return set().union(*(placeholders(v) for v in template)) if template else set()
    return set()
