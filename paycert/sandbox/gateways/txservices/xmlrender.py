"""A small dict -> XML renderer: the same fields as the JSON answer, for callers sending `Accept: application/xml`.

Objects become elements, lists repeat an element named after the list (`parameters` -> `<parameter>`), scalars
become text. The root element is `<response>`; paycert's profile pointers address its children. The spec
(specs/txservices/openapi.yaml) says the same once, in its description and its schemas' `xml` objects.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring


def _item_tag(list_tag: str) -> str:
    return list_tag[:-1] if list_tag.endswith("s") and len(list_tag) > 1 else "item"


def _fill(element: Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            if child is None:
                continue
            _fill(SubElement(element, str(key)), child)
    elif isinstance(value, list):
        for child in value:
            _fill(SubElement(element, _item_tag(element.tag)), child)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


# The fault xml-drift: the XML answer names a field otherwise than the JSON answer and the spec do.
DRIFTED = {"merchantTransactionId": "merchantTransactionID"}


def to_xml(document: dict[str, Any], root: str = "response", *, drift: bool = False) -> bytes:
    """`document` as XML; `drift` (the fault xml-drift) renames the fields of DRIFTED."""
    element = Element(root)
    _fill(element, {DRIFTED.get(k, k): v for k, v in document.items()} if drift else document)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(element, encoding="unicode").encode("utf-8")
