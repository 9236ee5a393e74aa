"""Kestrel's webhook sender: Standard Webhooks signatures, a retry schedule, loopback receivers only.

Written from the Standard Webhooks specification (https://www.standardwebhooks.com), not from paycert: the
message id travels only in the `webhook-id` header and stays the same on every attempt, each attempt is
signed again with a fresh `webhook-timestamp`, and only a 2xx answer counts as delivered. An attempt that
fails (another status, a timeout, a closed connection) is made again after the next interval of the
schedule; after the last attempt the message is given up.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import ipaddress
import itertools
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

DEFAULT_SCHEDULE_SECONDS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)  # so at most 5 attempts
DEFAULT_ATTEMPT_TIMEOUT_SECONDS = 5.0
USER_AGENT = "Kestrel-Webhooks/1.0"
_IDLE_SECONDS = 0.25  # the longest the scheduler sleeps without looking at its queue (so stop() is quick)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,` + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")).

    The key is the base64 after the `whsec_` prefix, decoded.
    """
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def is_loopback(url: str) -> bool:
    """Whether `url` names this machine (127.0.0.0/8, ::1 or localhost): the only place Kestrel delivers."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # an unclosed IPv6 bracket and the like: not a URL of this machine
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Attempt:
    at: float  # time.time() when the attempt started
    answer: str  # "200", "500", "ReadTimeout", "ConnectError", "blocked", ...


@dataclass
class Message:
    """One event for one endpoint, and every attempt made to deliver it."""

    msg_id: str
    event_type: str
    url: str
    body: bytes
    secret: str
    max_attempts: int
    attempts: list[Attempt] = field(default_factory=list)
    given_up: bool = False

    @property
    def delivered(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].answer.startswith("2")

    @property
    def finished(self) -> bool:
        return self.delivered or self.given_up


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    message: Message = field(compare=False)


class Sender:
    """Delivers messages in the background. `schedule` is the wait before attempt 2, 3, ...;
    `max_attempts` defaults to one more than the schedule has intervals.

    Faults (for paycert's certification to catch): `unsigned` sends no `webhook-signature`,
    `signing_secret` signs with that secret instead of the endpoint's, `max_attempts=1` never retries.
    """

    def __init__(
        self,
        *,
        schedule: Sequence[float] = DEFAULT_SCHEDULE_SECONDS,
        max_attempts: int | None = None,
        attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT_SECONDS,
        unsigned: bool = False,
        signing_secret: str | None = None,
    ) -> None:
        self.schedule = tuple(float(s) for s in schedule)
        self.max_attempts = max_attempts if max_attempts is not None else len(self.schedule) + 1
        self.unsigned = unsigned
        self.signing_secret = signing_secret
        self.messages: list[Message] = []
        self._queue: list[_Due] = []
        self._seq = itertools.count()
        self._changed = threading.Condition()
        self._stopping = False
        self._client = httpx.Client(timeout=attempt_timeout, follow_redirects=False)
        # Attempts run on a few workers, so a receiver that never answers holds up only its own message.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kestrel-webhook")
        self._thread = threading.Thread(target=self._run, name="kestrel-webhook-scheduler", daemon=True)

    def start(self) -> Sender:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()

    def send(self, msg_id: str, event_type: str, url: str, body: bytes, secret: str) -> Message:
        """Queue a message for its first attempt now; returns at once."""
        message = Message(msg_id, event_type, url, body, secret, self.max_attempts)
        with self._changed:
            self.messages.append(message)
            heapq.heappush(self._queue, _Due(time.monotonic(), next(self._seq), message))
            self._changed.notify_all()
        return message

    def _run(self) -> None:
        while True:
            with self._changed:
                if self._stopping:
                    return
                now = time.monotonic()
                if not self._queue or self._queue[0].at > now:
                    wait = self._queue[0].at - now if self._queue else _IDLE_SECONDS
                    self._changed.wait(timeout=min(wait, _IDLE_SECONDS))
                    continue
                due = heapq.heappop(self._queue)
            try:
                self._pool.submit(self._attempt, due.message)
            except RuntimeError:  # the pool is shutting down
                return

    def _headers(self, message: Message, timestamp: int) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message.msg_id,
            "webhook-timestamp": str(timestamp),
        }
        if not self.unsigned:
            secret = self.signing_secret or message.secret
            headers["webhook-signature"] = sign(secret, message.msg_id, timestamp, message.body)
        return headers

    def _attempt(self, message: Message) -> None:
        started = time.time()
        if not is_loopback(message.url):
            # A test gateway never sends anything off this machine; there is no point in trying again.
            message.attempts.append(Attempt(started, "blocked"))
            message.given_up = True
            return
        try:
            response = self._client.post(
                message.url, content=message.body, headers=self._headers(message, int(started))
            )
            answer = str(response.status_code)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # no answer, or no usable URL
            answer = type(exc).__name__
        message.attempts.append(Attempt(started, answer))
        if message.delivered:
            return
        made = len(message.attempts)
        if made >= message.max_attempts or made > len(self.schedule):
            message.given_up = True
            return
        with self._changed:
            due = time.monotonic() + self.schedule[made - 1]
            heapq.heappush(self._queue, _Due(due, next(self._seq), message))
            self._changed.notify_all()
