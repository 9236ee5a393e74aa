"""One root for every error paycert raises, so the CLI can turn any of them into a one-line reason."""

from __future__ import annotations


class PaycertError(Exception):
    """Something kept paycert from certifying: a bad target, spec or profile, an unreachable host.

    The message is one line, written for the person who runs paycert.
    """


class TargetError(PaycertError):
    """The target file is missing, malformed, or names something that does not exist."""


class ProfileError(PaycertError):
    """A gateway profile does not validate against specs/profile.schema.json or does not fit its spec."""


class SpecError(PaycertError):
    """An OpenAPI document or JSON Schema cannot be loaded or is not valid."""


class GatewayUnreachableError(PaycertError):
    """A gateway could not be reached at all (connection refused, DNS, TLS handshake)."""


class NotApplicable(Exception):
    """Raised inside a scenario when the gateway does not offer what it certifies; carries the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LiveWriteRefused(PaycertError):
    """A write to a live gateway that the run does not allow, stopped before it left.

    Not a harness error: the run chose not to write (no --allow-live-writes), so what depends on the write is
    *not evaluated* with this reason, and nothing about the gateway or paycert is wrong.
    """
