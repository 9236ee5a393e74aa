"""paycert: certify payment integrations before they go live."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
