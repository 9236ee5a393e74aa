"""HTML pages the shopper sees on the sandbox (hosted payment forms, 3-D Secure challenges).

Each gateway has its own templates, with its own field names, so that paycert's shopper is driven by the
profile and not by one shared page. They share a base layout only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from paycert.sandbox.faults import Faults

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def render(
    template: str, status_code: int = 200, *, faults: Faults | None = None, **context: Any
) -> HTMLResponse:
    """The page; a shopper-facing page passes the sandbox's `faults` (desktop-only-page changes its layout)."""
    desktop_only = faults is not None and faults.active("desktop-only-page")
    return HTMLResponse(
        _env.get_template(template).render(desktop_only=desktop_only, **context), status_code=status_code
    )
