"""The outbox's own HTTP client (paycert/sandbox/webhook_client.py) against real servers on loopback.

The receiver here is a scripted asyncio server: it reads each request for real and answers with raw bytes, so
the framings a receiver may use (Content-Length, chunked, read to close, an interim 100, Connection: close, an
answer that never comes, a connection closed without one) are each exercised as they arrive off a socket.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest
import trustme

from paycert.sandbox.egress import Egress, EgressRefusedError
from paycert.sandbox.webhook_client import KEPT_BODY_BYTES, Answer, WebhookClient

OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'
Reply = Callable[[asyncio.StreamWriter], Awaitable[None]]


def raw(data: bytes, *, close: bool = False) -> Reply:
    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        if close:
            writer.close()

    return reply


async def silence(writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


async def hang_up(writer: asyncio.StreamWriter) -> None:
    writer.close()


@dataclass
class Seen:
    head: list[str]
    body: bytes
    connection: int

    def header(self, name: str) -> str | None:
        for line in self.head[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name:
                return value.strip()
        return None


@dataclass
class Receiver:
    """Answers each request with the next scripted reply (OK when none is left); records what came."""

    replies: list[Reply] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    server: asyncio.Server | None = None

    async def start(self, tls: ssl.SSLContext | None = None) -> Receiver:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=tls)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def url(self, path: str = "/hooks", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")[:-2]
                seen = Seen(head, b"", number)
                length = int(seen.header("content-length") or 0)
                seen.body = await reader.readexactly(length)
                self.seen.append(seen)
                await (self.replies.pop(0) if self.replies else raw(OK))(writer)
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):  # or the test ended
            return
        finally:
            writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()


def client(tls: ssl.SSLContext | None = None, allowed: tuple[str, ...] = ()) -> WebhookClient:
    return WebhookClient(Egress(allowed), tls or ssl.create_default_context(), max_idle=2)


def run(scenario: Callable[[Receiver, WebhookClient], Awaitable[None]], *replies: Reply) -> Receiver:
    async def main() -> Receiver:
        receiver = await Receiver(list(replies)).start()
        sender = client()
        try:
            await scenario(receiver, sender)
        finally:
            await sender.aclose()
            await receiver.stop()
        return receiver

    return asyncio.run(main())


async def post(sender: WebhookClient, url: str, timeout: float = 5.0) -> Answer:
    return await sender.post(url, b'{"event":"x"}', {"Content-Type": "application/json"}, timeout)


def test_the_request_is_a_plain_http11_post_with_the_renderers_headers() -> None:
    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        answer = await sender.post(
            receiver.url("/hooks/tx?shop=7"),
            b'{"paymentId":"1"}',
            {"Content-Type": "application/json", "User-Agent": "txservices-sandbox-callback/1"},
            5.0,
        )
        assert answer == Answer(200, '{"ok":true}')

    receiver = run(scenario)
    [seen] = receiver.seen
    assert seen.head[0] == "POST /hooks/tx?shop=7 HTTP/1.1"
    assert seen.header("host") == f"127.0.0.1:{receiver.port}"
    assert seen.header("user-agent") == "txservices-sandbox-callback/1"
    assert seen.header("content-type") == "application/json"
    assert seen.header("content-length") == "17"
    assert seen.header("accept") == "*/*"
    assert seen.body == b'{"paymentId":"1"}'


def test_connections_are_kept_alive_and_reused() -> None:
    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        for _ in range(3):
            assert (await post(sender, receiver.url())).status_code == 200

    receiver = run(scenario)
    assert [s.connection for s in receiver.seen] == [1, 1, 1]


def test_an_answer_with_connection_close_is_not_reused() -> None:
    closing = b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"

    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        assert (await post(sender, receiver.url())).status_code == 202
        assert (await post(sender, receiver.url())).status_code == 200

    receiver = run(scenario, raw(closing, close=True))
    assert [s.connection for s in receiver.seen] == [1, 2]


def test_a_connection_the_receiver_closed_while_idle_is_not_used_again() -> None:
    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        assert (await post(sender, receiver.url())).status_code == 200
        await asyncio.sleep(0.1)  # the receiver's close reaches the client
        assert (await post(sender, receiver.url())).status_code == 200

    # No Connection: close header: the receiver just closes after answering, as an idle timeout would.
    receiver = run(scenario, raw(OK, close=True))
    assert [s.connection for s in receiver.seen] == [1, 2]


@pytest.mark.parametrize(
    ("answer", "status", "text"),
    [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            200,
            "abcde",
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", 201, "ok"),
        (b"HTTP/1.1 204 No Content\r\n\r\n", 204, ""),
        (
            b"HTTP/1.1 500 Oops\r\nContent-Type: text/plain; charset=latin-1\r\nContent-Length: 4\r\n\r\nca\xe9!",
            500,
            "ca\u00e9!",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\xff\xfeok", 200, "\ufffd\ufffdok"),
    ],
    ids=["chunked", "interim-100", "no-body", "charset", "not-utf8"],
)
def test_answers_are_read_whatever_their_framing(answer: bytes, status: int, text: str) -> None:
    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        assert await post(sender, receiver.url()) == Answer(status, text)
        assert (await post(sender, receiver.url())).status_code == 200  # and the connection is still usable

    receiver = run(scenario, raw(answer))
    assert [s.connection for s in receiver.seen] == [1, 1]


def test_an_answer_without_length_ends_with_the_connection() -> None:
    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        assert await post(sender, receiver.url()) == Answer(200, "until the end")

    run(scenario, raw(b"HTTP/1.1 200 OK\r\n\r\nuntil the end", close=True))


def test_only_the_start_of_a_large_answer_is_kept() -> None:
    big = b"x" * (KEPT_BODY_BYTES * 4)
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big) + big

    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        got = await post(sender, receiver.url())
        assert got.status_code == 200
        assert len(got.text) >= 2000  # the outbox keeps 2 000 characters
        assert set(got.text) == {"x"}
        assert len(got.text) <= KEPT_BODY_BYTES * 2

    run(scenario, raw(answer))


def test_a_receiver_that_never_answers_is_a_timeout() -> None:
    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        with pytest.raises(httpx.TimeoutException):
            await post(sender, receiver.url(), timeout=0.3)
        assert (await post(sender, receiver.url())).status_code == 200  # on a new connection

    receiver = run(scenario, silence)
    assert [s.connection for s in receiver.seen] == [1, 2]


def test_a_connection_closed_without_an_answer_is_a_protocol_error() -> None:
    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await post(sender, receiver.url())

    run(scenario, hang_up)


def test_a_cut_answer_is_a_protocol_error() -> None:
    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
            await post(sender, receiver.url())

    run(scenario, raw(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", close=True))


def test_garbage_is_a_protocol_error() -> None:
    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        with pytest.raises(httpx.RemoteProtocolError, match="invalid HTTP answer"):
            await post(sender, receiver.url())

    run(scenario, raw(b"SMTP ready\r\n\r\n"))


def test_nobody_listening_is_a_connect_error() -> None:
    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        await receiver.stop()
        assert receiver.server is not None
        await receiver.server.wait_closed()
        with pytest.raises(httpx.ConnectError):
            await post(sender, receiver.url())

    run(scenario)


def test_hosts_off_this_machine_are_refused_before_any_connection() -> None:
    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        with pytest.raises(EgressRefusedError, match="not on this machine"):
            await post(sender, "https://paycert-egress-check.example/hooks")
        with pytest.raises(EgressRefusedError):
            await post(sender, "http://10.0.0.1/hooks")
        with pytest.raises(httpx.UnsupportedProtocol):
            await post(sender, f"ftp://127.0.0.1:{receiver.port}/hooks")

    receiver = run(scenario)
    assert receiver.connections == 0


def test_headers_cannot_smuggle_lines() -> None:
    async def scenario(receiver: Receiver, sender: WebhookClient) -> None:
        with pytest.raises(httpx.LocalProtocolError):
            await sender.post(receiver.url(), b"{}", {"X-Id": "1\r\nX-Evil: 1"}, 5.0)

    assert run(scenario).seen == []


def test_https_receivers_are_verified_with_the_context_given() -> None:
    authority = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_tls)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)

    async def main() -> None:
        receiver = await Receiver().start(tls=server_tls)
        try:
            async with client(trusting) as sender:
                assert (await post(sender, receiver.url(scheme="https"))).status_code == 200
            async with client(ssl.create_default_context()) as untrusting:
                with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    await post(untrusting, receiver.url(scheme="https"))
        finally:
            await receiver.stop()

    asyncio.run(main())
