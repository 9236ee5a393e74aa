"""YAML text to data, with libyaml's parser where PyYAML was built with it.

Every run reads the catalogue, the target, three profiles and three OpenAPI documents (twice: the CLI and the
inner pytest session each load the target). PyYAML's pure-Python parser took ~0.4 s of CPU for one reading of
the embedded target; libyaml's takes a tenth of that (issue 15). The constructor (what becomes a date, an int,
a merge) is the same Python code behind both parsers, so the data is the same.

A document libyaml refuses is read again by the pure-Python parser, and its error is the one raised: libyaml
words some problems differently and gives a character it refuses no position, while paycert's messages
(`file:line:column: not valid YAML: ...`, tests/unit/test_bad_files.py) are PyYAML's. A broken file is read
twice; a good one once, fast.

The same text is also read more than once a run (each merchant test builds its harness from the merchant's
spec: ~0.7 s of a whole run's CPU went to parsing one file again and again), so the data of recent texts is
kept as marshal bytes, and each reader gets a fresh copy from them (a reader may change what it is given).
Data marshal cannot hold (a YAML date) is not kept.
"""

from __future__ import annotations

import marshal
from collections import OrderedDict
from typing import Any

import yaml

__all__ = ["FAST", "safe_load"]

_CLoader: Any = getattr(yaml, "CSafeLoader", None)
FAST = _CLoader is not None  # False only where PyYAML was built without libyaml: then nothing changes


# Texts whose data is kept, most recent last: a run's catalogue, target, profiles, specs and a few more.
_KEPT_TEXTS = 32
_kept: OrderedDict[str, bytes] = OrderedDict()
# Below this a text parses about as fast as a copy is made: not worth keeping.
_KEPT_MIN_CHARS = 2048


def safe_load(text: str) -> Any:
    """`yaml.safe_load(text)`, parsed by libyaml when available; PyYAML's own errors when it is not YAML.

    Every call returns data of its own, never shared with another caller.
    """
    kept = _kept.get(text)
    if kept is not None:
        _kept.move_to_end(text)
        return marshal.loads(kept)  # noqa: S302 (bytes this process made from data it parsed itself)
    data = _parse(text)
    if len(text) >= _KEPT_MIN_CHARS:
        try:
            _kept[text] = marshal.dumps(data)
        except ValueError:  # a date, or anything else marshal does not hold: parsed again next time
            return data
        if len(_kept) > _KEPT_TEXTS:
            _kept.popitem(last=False)
    return data


def _parse(text: str) -> Any:
    if _CLoader is None:
        return yaml.safe_load(text)
    try:
        return yaml.load(text, Loader=_CLoader)  # noqa: S506 (CSafeLoader: a SafeLoader, no arbitrary objects)
    except yaml.YAMLError:
        return yaml.safe_load(text)  # raises what users have always been told, placed where PyYAML places it
