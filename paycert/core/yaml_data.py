"""YAML text to data, with libyaml's parser where PyYAML was built with it.

Every run reads the catalogue, the target, three profiles and three OpenAPI documents (twice: the CLI and the
inner pytest session each load the target). PyYAML's pure-Python parser took ~0.4 s of CPU for one reading of
the embedded target; libyaml's takes a tenth of that (issue 15). The constructor (what becomes a date, an int,
a merge) is the same Python code behind both parsers, so the data is the same.

A document libyaml refuses is read again by the pure-Python parser, and its error is the one raised: libyaml
words some problems differently and gives a character it refuses no position, while paycert's messages
(`file:line:column: not valid YAML: ...`, tests/unit/test_bad_files.py) are PyYAML's. A broken file is read
twice; a good one once, fast.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["FAST", "safe_load"]

_CLoader: Any = getattr(yaml, "CSafeLoader", None)
FAST = _CLoader is not None  # False only where PyYAML was built without libyaml: then nothing changes


def safe_load(text: str) -> Any:
    """`yaml.safe_load(text)`, parsed by libyaml when available; PyYAML's own errors when it is not YAML."""
    if _CLoader is None:
        return yaml.safe_load(text)
    try:
        return yaml.load(text, Loader=_CLoader)  # noqa: S506 (CSafeLoader: a SafeLoader, no arbitrary objects)
    except yaml.YAMLError:
        return yaml.safe_load(text)  # raises what users have always been told, placed where PyYAML places it
