"""The one request a probe sends: a GET whose whole exchange (connect, TLS, answer) fits in `seconds`."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from paycert.targets.bounds import bounded_client, within


@contextmanager
def one_get(url: str, *, verify: ssl.SSLContext | bool, seconds: float) -> Iterator[httpx.Response]:
    """Streamed, so a probe can read the TLS session of the connection before it is closed."""
    with (
        bounded_client(verify=verify) as client,
        within(seconds),
        client.stream("GET", url, headers={"accept": "*/*"}) as response,
    ):
        yield response
