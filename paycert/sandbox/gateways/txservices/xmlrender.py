"""A small dict -> XML renderer: the same fields as the JSON answer, for callers sending `Accept: application/xml`.

Objects become elements, lists repeat an element named after the list (`parameters` -> `<parameter>`), scalars
become text. The root element is `<response>`; paycert's profile pointers address its children.
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


def to_xml(document: dict[str, Any], root: str = "response") -> bytes:
    element = Element(root)
    _fill(element, document)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(element, encoding="unicode").encode("utf-8")
