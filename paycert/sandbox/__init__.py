"""The embedded reference sandbox: a correct model of the three built-in gateways, served over real HTTP.

Nothing in paycert imports this package except the CLI that starts it; suites and the library reach it
over HTTP only, exactly as they reach a real gateway.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paycert.sandbox.app import create_app
    from paycert.sandbox.config import SandboxConfig
    from paycert.sandbox.server import SandboxServer

__all__ = ["SandboxConfig", "SandboxServer", "create_app"]

# Imported on first use (PEP 562): the app pulls in FastAPI and uvicorn (~0.45 s), and the CLI imports
# small submodules (the fault names, the gateway list) when it assembles its commands; `paycert --help` and
# every command that never serves the sandbox should not pay for the app (issue 15).
_LAZY = {
    "create_app": "paycert.sandbox.app",
    "SandboxConfig": "paycert.sandbox.config",
    "SandboxServer": "paycert.sandbox.server",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
