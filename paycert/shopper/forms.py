"""HTML forms as a plain HTTP client sees them: parsed with the stdlib `html.parser`, filled by input name,
submitted with the pressed button the way a browser builds the form data set.

Only what hosted payment and challenge pages use: forms (id, name, action, method, enctype), inputs (hidden ones
with their values), selects, textareas, buttons (`<button>`, `<input type=submit>`) with name/value and
`formaction`/`formmethod`, controls tied to a form by the `form` attribute, `<meta http-equiv=refresh>`.
Elements are found with the selector subset of `paycert.shopper.selectors`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

from paycert.shopper import selectors

_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
_CONTROLS = frozenset({"input", "button", "select", "textarea"})
_TEXT_KEPT = frozenset({"textarea", "option", "button", "title"})
_BUTTON_INPUTS = frozenset({"submit", "image", "button", "reset"})
_REFRESH = re.compile(
    r"^\s*(?P<delay>\d+(?:\.\d*)?)?\s*[;,]?\s*(?:url\s*=\s*)?['\"]?(?P<url>[^'\"]*)['\"]?\s*$", re.IGNORECASE
)


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    text: str = ""
    children: list[Element] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.attrs.get("name", "")

    @property
    def type(self) -> str:
        default = "submit" if self.tag == "button" else "text"
        return self.attrs.get("type", default).lower()

    @property
    def is_button(self) -> bool:
        return (self.tag == "button" and self.type == "submit") or (
            self.tag == "input" and self.type in ("submit", "image")
        )

    def ancestors(self) -> list[Element]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def descendants(self) -> list[Element]:
        found: list[Element] = []
        for child in self.children:
            found.append(child)
            found.extend(child.descendants())
        return found


class _TreeBuilder(HTMLParser):
    """Builds a forgiving element tree: unclosed elements close with their parent, stray end tags are ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.elements: list[Element] = []
        self._open: list[Element] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self._open[-1]
        element = Element(tag, {name: value or "" for name, value in attrs}, parent)
        parent.children.append(element)
        self.elements.append(element)
        if tag not in _VOID:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open[1:]:
            if element.tag in _TEXT_KEPT:
                element.text += data


@dataclass
class Form:
    element: Element
    controls: list[Element]
    page_url: str

    @property
    def method(self) -> str:
        return self.element.attrs.get("method", "get").upper()

    @property
    def enctype(self) -> str:
        return self.element.attrs.get("enctype", "application/x-www-form-urlencoded").lower()

    @property
    def action(self) -> str:
        # An empty or missing action submits to the page itself.
        return urljoin(self.page_url, self.element.attrs.get("action", "") or self.page_url)

    def input_names(self) -> set[str]:
        return {
            control.name
            for control in self.controls
            if control.name and control.tag != "button" and control.type not in _BUTTON_INPUTS
        }

    def find(self, selector: str | None) -> Element | None:
        """The first control of this form matching `selector` (document order); None: the first submit
        button."""
        if selector is None:
            return next((control for control in self.controls if control.is_button), None)
        parsed = selectors.parse(selector)
        return next((control for control in self.controls if parsed.matches(control)), None)

    def target(self, button: Element | None) -> tuple[str, str]:
        """(method, URL) the form is sent with when `button` is pressed (its formmethod/formaction win)."""
        method = self.method
        action = self.action
        if button is not None:
            method = button.attrs.get("formmethod", method).upper()
            if button.attrs.get("formaction"):
                action = urljoin(self.page_url, button.attrs["formaction"])
        return method, action

    def data_set(self, values: Mapping[str, str], button: Element | None) -> list[tuple[str, str]]:
        """The (name, value) pairs a browser sends: every successful control in document order, with the
        filled `values` (by input name) replacing the page's ones, and only the pressed button."""
        pairs: list[tuple[str, str]] = []
        for control in self.controls:
            name = control.name
            if not name or "disabled" in control.attrs:
                continue
            if control.is_button or (control.tag == "input" and control.type in _BUTTON_INPUTS):
                if control is button:
                    pairs.append((name, control.attrs.get("value", "")))
                continue
            if control.tag == "input" and control.type in ("checkbox", "radio"):
                if name in values:
                    if control.attrs.get("value", "on") == values[name]:
                        pairs.append((name, values[name]))
                elif "checked" in control.attrs:
                    pairs.append((name, control.attrs.get("value", "on")))
                continue
            if control.tag == "input" and control.type == "file":
                continue
            if name in values:
                pairs.append((name, values[name]))
            elif control.tag == "select":
                pairs.extend((name, value) for value in _selected(control))
            elif control.tag == "textarea":
                pairs.append((name, control.text))
            elif control.tag == "input":
                pairs.append((name, control.attrs.get("value", "")))
        return pairs


def _selected(select: Element) -> list[str]:
    options = [node for node in select.descendants() if node.tag == "option" and "disabled" not in node.attrs]
    values = [
        option.attrs.get("value", option.text.strip()) for option in options if "selected" in option.attrs
    ]
    if values or "multiple" in select.attrs or not options:
        return values
    return [options[0].attrs.get("value", options[0].text.strip())]


class Document:
    """A parsed HTML page at `url`."""

    def __init__(self, html: str, url: str) -> None:
        builder = _TreeBuilder()
        builder.feed(html)
        builder.close()
        self.url = url
        self.elements = builder.elements
        by_id = {e.attrs["id"]: e for e in self.elements if e.tag == "form" and "id" in e.attrs}
        owners: dict[int, list[Element]] = {id(e): [] for e in self.elements if e.tag == "form"}
        for element in self.elements:
            if element.tag not in _CONTROLS:
                continue
            owner = by_id.get(element.attrs["form"]) if "form" in element.attrs else None
            if owner is None:
                owner = next((a for a in element.ancestors() if a.tag == "form"), None)
            if owner is not None:
                owners[id(owner)].append(element)
        self.forms = [Form(e, owners[id(e)], url) for e in self.elements if e.tag == "form"]

    @property
    def title(self) -> str:
        return next((e.text.strip() for e in self.elements if e.tag == "title"), "")

    def select(self, selector: str) -> list[Element]:
        parsed = selectors.parse(selector)
        return [element for element in self.elements if parsed.matches(element)]

    def form(self, selector: str | None) -> Form | None:
        """The first form matching `selector` (None: the first form of the page)."""
        wanted = selectors.parse(selector or "form")
        for element in self.elements:
            if not wanted.matches(element):
                continue
            # A selector may name a wrapper around the form (`#checkout` on a div), as it may for a browser.
            inner = [element, *element.descendants()] if element.tag != "form" else [element]
            found = next((f for f in self.forms if f.element in inner), None)
            if found is not None:
                return found
        return None

    def form_with(self, control_selector: str) -> Form | None:
        """The first form holding a control matching `control_selector`."""
        wanted = selectors.parse(control_selector)
        return next((f for f in self.forms if any(wanted.matches(c) for c in f.controls)), None)

    def control(self, selector: str | None, preferred: Form | None) -> tuple[Form, Element] | None:
        """The button `selector` names, and the form it submits: the page model both shoppers share.

        Looked for in `preferred` (the form being filled) first, then in every form of the page: a gateway
        may put its cancel button in a form of its own beside the payment form. The browser driver follows
        the same rule with locators (`browser_driver._click`).
        """
        for form in [*([preferred] if preferred is not None else []), *self.forms]:
            found = form.find(selector)
            if found is not None and found.is_button:
                return form, found
        return None

    def refresh_url(self, max_delay: float = 10.0) -> str | None:
        """Where a `<meta http-equiv="refresh" content="0;url=...">` sends the page soon (within
        `max_delay` seconds: a refresh after minutes is a session timeout, not a step of the journey)."""
        for element in self.elements:
            if element.tag == "meta" and element.attrs.get("http-equiv", "").lower() == "refresh":
                match = _REFRESH.match(element.attrs.get("content", ""))
                if match and match.group("url") and float(match.group("delay") or 0) <= max_delay:
                    return urljoin(self.url, str(match.group("url")))
        return None
