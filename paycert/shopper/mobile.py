"""Does a page work on a phone? Measured in Chromium at 375 px wide, the way 002 §6.1 asks.

`PHONE` is the screen (375x667 CSS px, device scale 2, a touch screen). `measure` reads an open page: whether
it scrolls sideways (`document.scrollingElement.scrollWidth` past its `clientWidth`), every visible tap target
(links, buttons, inputs, selects, text areas, `[role=button]`, labels of inputs) smaller than 44x44 px, and
every visible text smaller than 12 px (the computed font size of the element holding it). `PhoneCheck` is a
`PageObserver` for the browser shopper: it measures each page as it arrives and keeps a screenshot of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paycert.redaction import redact_url
from paycert.shopper.browser_driver import Device
from paycert.shopper.messages import find_message

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

PHONE = Device(width=375, height=667, scale=2.0, mobile=True, touch=True)
MIN_TAP_PX = 44.0
MIN_TEXT_PX = 12.0
# A page may be a pixel wider than its screen from sub-pixel rounding without any scrolling a shopper sees.
SCROLL_SLACK_PX = 1
# A page without a responsive viewport tag is shown zoomed out to fit a desktop width: what the shopper sees is
# its CSS sizes times this scale, so sizes are judged as shown, and the zoom itself is a finding.
MIN_SCALE = 0.99
_SHOWN = 3  # offending elements named per kind in a message; the rest are counted

# Runs in the page. Elements are described by tag, id or name, and a little of their text, so a finding says
# which button or paragraph is at fault without holding what was typed into a field (values are not read).
_MEASURE = """
() => {
  const root = document.scrollingElement || document.documentElement;
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none'
      && parseFloat(style.opacity || '1') > 0;
  };
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    else if (el.getAttribute('name')) name += '[name="' + el.getAttribute('name') + '"]';
    else if (el.classList.length) name += '.' + el.classList[0];
    const isField = el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT';
    const text = isField ? '' : (el.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    return text ? name + ' "' + text + '"' : name;
  };
  const targets = [];
  const wanted = 'a[href], button, input:not([type=hidden]), select, textarea, [role=button], label[for]';
  for (const el of document.querySelectorAll(wanted)) {
    if (!shown(el)) continue;
    const box = el.getBoundingClientRect();
    targets.push({element: describe(el), width: box.width, height: box.height});
  }
  const texts = [];
  const holders = new Set();
  const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const holder = walker.currentNode.parentElement;
    if (!holder || holders.has(holder) || !walker.currentNode.textContent.trim()) continue;
    holders.add(holder);
    if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'TITLE'].includes(holder.tagName) || !shown(holder)) continue;
    texts.push({element: describe(holder), size: parseFloat(getComputedStyle(holder).fontSize)});
  }
  const scale = window.visualViewport ? window.visualViewport.scale : 1;
  return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, scale: scale, targets: targets,
          texts: texts};
}
"""


@dataclass(frozen=True)
class Problem:
    """One way a page fails a phone: `kind` is "scroll", "tap-target" or "text"; `element` names the culprit."""

    kind: str
    element: str
    detail: str

    def __str__(self) -> str:
        return f"{self.element}: {self.detail}" if self.element else self.detail


@dataclass(frozen=True)
class Layout:
    """What `measure` read of one page."""

    scroll_width: float
    client_width: float
    problems: tuple[Problem, ...]
    targets: int
    texts: int

    @classmethod
    def from_measure(cls, raw: dict[str, Any]) -> Layout:
        problems: list[Problem] = []
        scroll, client = float(raw["scrollWidth"]), float(raw["clientWidth"])
        scale = float(raw.get("scale") or 1.0)
        if scroll > client + SCROLL_SLACK_PX:
            problems.append(
                Problem(
                    "scroll", "", f"scrolls sideways: {scroll:.0f} px of page on a {client:.0f} px screen"
                )
            )
        if scale < MIN_SCALE:
            problems.append(
                Problem(
                    "scroll",
                    "",
                    f"shown zoomed out to {scale:.0%}: laid out {client:.0f} px wide for a desktop",
                )
            )
        for target in raw["targets"]:
            width, height = float(target["width"]) * scale, float(target["height"]) * scale
            if width < MIN_TAP_PX or height < MIN_TAP_PX:
                problems.append(
                    Problem(
                        "tap-target",
                        str(target["element"]),
                        f"tap target {width:.0f}x{height:.0f} px, under {MIN_TAP_PX:.0f}x{MIN_TAP_PX:.0f}",
                    )
                )
        for text in raw["texts"]:
            size = round(float(text["size"]) * scale, 1)
            if size < MIN_TEXT_PX:
                problems.append(
                    Problem("text", str(text["element"]), f"text {size:g} px, under {MIN_TEXT_PX:g} px")
                )
        return cls(scroll, client, tuple(problems), len(raw["targets"]), len(raw["texts"]))

    @property
    def fits(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """The problems in one line, a few of each kind named, the rest counted."""
        parts: list[str] = []
        for kind in ("scroll", "tap-target", "text"):
            found = [p for p in self.problems if p.kind == kind]
            named = "; ".join(str(p) for p in found[:_SHOWN])
            more = f" (and {len(found) - _SHOWN} more)" if len(found) > _SHOWN else ""
            if found:
                parts.append(named + more)
        return "; ".join(parts) if parts else "fits a 375 px phone"


def measure(page: Page) -> Layout:
    """Measure the page as it is now laid out (call it after the page's `load`)."""
    raw: dict[str, Any] = page.evaluate(_MEASURE)
    return Layout.from_measure(raw)


def visible_text(page: Page) -> str:
    """What the shopper can read on the page: the rendered text of its body (hidden elements excluded)."""
    text: str = page.evaluate("() => document.body ? document.body.innerText : ''")
    return text


@dataclass(frozen=True)
class PageSeen:
    """One page as a phone showed it: where, what it said, how it fits, and its screenshot (if kept)."""

    label: str
    url: str  # redacted
    status: int | None
    headers: dict[str, str]
    title: str
    text: str
    layout: Layout
    screenshot: Path | None = None

    def summary(self) -> str:
        return f"{self.label} page {self.url}: {self.layout.summary()}"

    def message(self, wording: re.Pattern[str]) -> str | None:
        """The line of the page that tells the shopper what happened in `wording`'s words, or None."""
        return find_message(self.text, wording)


@dataclass
class PhoneCheck:
    """A `PageObserver` that measures every page a journey meets and screenshots it into `shots_dir`.

    Screenshots are taken when a page arrives, before anything is typed; the page a journey ends on has its
    inputs masked (the browser shopper's rule), so no screenshot can show a card number or a password.
    `secrets` are also removed from the URLs and texts it keeps.
    """

    shots_dir: Path | None
    name: str
    secrets: tuple[str, ...] = ()
    seen: list[PageSeen] = field(default_factory=list)

    def __call__(self, page: Page, label: str, response: Response | None) -> None:
        layout = measure(page)
        shot: Path | None = None
        if self.shots_dir is not None:
            self.shots_dir.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^a-z0-9-]+", "-", f"{self.name}-{len(self.seen) + 1:02d}-{label}".lower())
            shot = self.shots_dir / f"phone-{slug}.png"
            mask = [page.locator("input")] if label == "outcome" else []
            page.screenshot(path=shot, full_page=True, mask=mask)
        text = visible_text(page)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        self.seen.append(
            PageSeen(
                label=label,
                url=redact_url(page.url, list(self.secrets)),
                status=response.status if response is not None else None,
                headers=dict(response.headers) if response is not None else {},
                title=page.title(),
                text=text,
                layout=layout,
                screenshot=shot,
            )
        )
