"""Bounded HTTP: a whole request keeps to one deadline whatever the peer does, a body over the cap is refused,
and the run's own deadline stops the gateway client (a peer on 127.0.0.1, no timed assertions)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from paycert.core.errors import GatewayUnreachableError
from paycert.gateways.http import GatewayHttp, Recorder, probe
from paycert.redaction import Redactor
from paycert.targets.bounds import BodyTooLarge, Deadline, OutOfTime, bounded_client, within
from tests.badpeer.peer import BadPeer


@pytest.fixture(scope="module")
def peer() -> Iterator[BadPeer]:
    with BadPeer() as started:
        yield started


def gateway_http(base_url: str, *, timeout: float = 1.0, run_deadline: Deadline | None = None) -> GatewayHttp:
    return GatewayHttp(base_url, Recorder(Redactor()), timeout=timeout, run_deadline=run_deadline)


def test_a_peer_that_drips_its_headers_is_cut_off_by_the_deadline_of_the_whole_request(peer: BadPeer) -> None:
    # Each byte comes well within any per-read timeout; only a deadline for the whole request ends this.
    http = gateway_http(peer.url("drip"))

    with pytest.raises(GatewayUnreachableError, match=r"did not answer within 1 s \(ReadTimeout\)"):
        http.send("GET", "/payments/1")

    (exchange,) = http.recorder.log.to_list()
    assert exchange["status"] is None
    assert "did not answer within 1 s" in exchange["error"]


def test_a_body_over_the_cap_is_refused_while_it_streams_in(peer: BadPeer) -> None:
    with (
        bounded_client(max_body_bytes=100_000) as client,
        pytest.raises(BodyTooLarge, match="over 100000 bytes"),
    ):
        client.get(peer.url("huge"))


def test_a_body_announced_over_the_cap_is_refused_before_it_is_read(peer: BadPeer) -> None:
    with bounded_client(max_body_bytes=10) as client, pytest.raises(BodyTooLarge, match="announced a body"):
        client.get(peer.url("html"))


def test_the_deadline_of_a_block_covers_every_redirect_in_it(peer: BadPeer) -> None:
    with (
        bounded_client(follow_redirects=True) as client,
        pytest.raises(Exception, match="redirects"),
        within(5),
    ):
        client.get(peer.url("redirect-loop"))


def test_the_gateway_client_sends_nothing_once_the_run_is_out_of_time(peer: BadPeer) -> None:
    spent = Deadline(time.monotonic() - 1, "the run's --max-duration of 5 s")
    http = gateway_http(peer.url("500"), run_deadline=spent)

    with pytest.raises(OutOfTime, match="--max-duration of 5 s ran out before GET"):
        http.send("GET", "/payments/1")


def test_a_request_in_progress_ends_when_the_run_does(peer: BadPeer) -> None:
    soon = Deadline.after(0.5, "the run's --max-duration of 5 s")
    http = gateway_http(peer.url("hang"), timeout=30, run_deadline=soon)

    with pytest.raises(OutOfTime, match="ran out during GET"):
        http.send("GET", "/payments/1")


@pytest.mark.parametrize(
    ("behaviour", "words"),
    [
        ("garbage", "did not answer in HTTP"),
        ("reset", "reset the connection"),
        ("hang", "did not answer within 0.5 s"),
        ("drip", "did not answer within 0.5 s"),
    ],
)
def test_the_probe_names_what_the_peer_did(peer: BadPeer, behaviour: str, words: str) -> None:
    reason = probe(peer.url(behaviour), seconds=0.5)

    assert reason is not None
    assert words in reason


@pytest.mark.parametrize("behaviour", ["500", "huge", "redirect-loop"])
def test_a_peer_that_answers_anything_is_reachable(peer: BadPeer, behaviour: str) -> None:
    assert probe(peer.url(behaviour), seconds=2) is None
