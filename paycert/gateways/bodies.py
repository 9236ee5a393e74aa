"""Reading response bodies: JSON, XML (txservices answers XML on request) or text."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

import httpx


def _element_to_value(element: ElementTree.Element) -> Any:
    children = list(element)
    if not children:
        return element.text or ""
    grouped: dict[str, Any] = {}
    for child in children:
        value = _element_to_value(child)
        if child.tag in grouped:
            existing = grouped[child.tag]
            grouped[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            grouped[child.tag] = value
    return grouped


def parse(response: httpx.Response) -> Any:
    """The body as Python data: JSON as is, XML as nested dicts (root element dropped), else the text."""
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    text = response.text
    if not text:
        return None
    if media.endswith("json"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    if media.endswith("xml"):
        try:
            return _element_to_value(ElementTree.fromstring(text))  # noqa: S314 - gateway test data, no DTDs
        except ElementTree.ParseError:
            return text
    return text
