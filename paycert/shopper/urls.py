"""The merchant's return URL: is this it (the journey's end), and what does it carry."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit


def is_return(url: str, return_prefix: str) -> bool:
    """True when `url` is the merchant's return URL, the journey's end (the driver never requests it)."""
    return url.startswith(return_prefix)


def return_query(url: str) -> dict[str, str]:
    """The return URL's query as a flat dict; when a name repeats, its first value wins."""
    query: dict[str, str] = {}
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        query.setdefault(name, value)
    return query
