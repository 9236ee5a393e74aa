"""Hypothesis strategies for webhook bodies, generated from a gateway's JSON Schema (hypothesis-jsonschema).

The property tests of the signature schemes and the merchant suite's forged-webhook property both draw from
here: every body the schema allows, not only the one example a profile author thought of.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

__all__ = ["webhook_bodies", "webhook_documents"]


def webhook_documents(schema: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Schema-valid webhook bodies as JSON objects (the schema's `examples` are drawn first)."""
    # Imported here: hypothesis-jsonschema touches hypothesis's storage when imported, which hypothesis
    # warns about while pytest is still loading plugins (paycert's loads before hypothesis's own).
    from hypothesis_jsonschema import from_schema

    generated: st.SearchStrategy[Any] = from_schema(dict(schema))
    examples = [e for e in schema.get("examples") or () if isinstance(e, dict)]
    documents = st.sampled_from(examples) | generated if examples else generated
    return documents.filter(lambda document: isinstance(document, dict))


def webhook_bodies(schema: Mapping[str, Any]) -> st.SearchStrategy[bytes]:
    """Schema-valid webhook bodies serialized as a gateway sends them (compact JSON, UTF-8)."""
    return webhook_documents(schema).map(lambda body: json.dumps(body, separators=(",", ":")).encode())
