"""The embedded reference sandbox: a correct model of the three built-in gateways, served over real HTTP.

Nothing in paycert imports this package except the CLI that starts it; suites and the library reach it
over HTTP only, exactly as they reach a real gateway.
"""

from __future__ import annotations

from paycert.sandbox.app import create_app
from paycert.sandbox.config import SandboxConfig
from paycert.sandbox.server import SandboxServer

__all__ = ["SandboxConfig", "SandboxServer", "create_app"]
