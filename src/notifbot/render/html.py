"""HTML building for the message views: the one place values are escaped, safe links and images, held spans."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from markupsafe import Markup, escape

Content = str | Markup | Iterable["Content"] | None
Attrs = Mapping[str, str | int | bool | tuple[str, ...] | None]

VOID = frozenset({"br", "hr", "img"})
_NAME = re.compile(r"[a-z][a-z0-9-]*")
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NEW_TAB = ("noopener", "noreferrer")
# chat.css (the views' styles), for the sandbox and the console to serve
STATIC_DIR = Path(__file__).resolve().parent / "static"
UNSUPPORTED_BLOCK = "unsupported block"
UNSUPPORTED_ELEMENT = "unsupported element"


def _flat(content: Content) -> Iterable[str | Markup]:
    if content is None:
        return
    if isinstance(content, str):  # Markup is a str: escape() keeps it as is
        yield content
        return
    for part in content:
        yield from _flat(part)


def el(name: str, attrs: Attrs | None = None, *children: Content) -> Markup:
    """`<name …>children</name>`: every attribute value and every plain-str child escaped here, Markup kept."""
    assert _NAME.fullmatch(name), name
    out = [f"<{name}"]
    for key, value in (attrs or {}).items():
        assert _NAME.fullmatch(key), key
        if value is None or value is False or value == ():
            continue
        if value is True:
            out.append(f" {key}")
            continue
        text = " ".join(value) if isinstance(value, tuple) else str(value)
        out.append(f' {key}="{escape(text)}"')
    out.append(">")
    if name in VOID:
        return Markup("".join(out))
    body = "".join(escape(part) for part in _flat(children))
    return Markup("".join(out) + body + f"</{name}>")


def join(parts: Iterable[Content], sep: Content = None) -> Markup:
    """The parts (escaped unless Markup) one after another, `sep` between them."""
    between = Markup("".join(escape(p) for p in _flat(sep)))
    return between.join(Markup("".join(escape(p) for p in _flat(part))) for part in parts)


def safe_url(url: object) -> str | None:
    """`url` when it is an absolute http(s) URL with a host; None for anything else (javascript:, data:, …)."""
    if not isinstance(url, str) or _CONTROL.search(url.strip()):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def image_src(url: object) -> str | None:
    """An image source the views may load: an http(s) URL, or a base64 PNG/JPEG/GIF/WebP data URI."""
    if isinstance(url, str) and _DATA_IMAGE.fullmatch(url.strip()):
        return url.strip()
    return safe_url(url)


def link(url: object, label: Content, classes: tuple[str, ...] = ()) -> Markup:
    """`label` opening `url` in a new tab when it is http(s); else the label alone, visibly not a link."""
    href = safe_url(url)
    if href is None:
        return el("span", {"class": ("nb-link-refused", *classes)}, label)
    return el("a", {"class": classes, "href": href, "rel": NEW_TAB, "target": "_blank"}, label)


def unsupported(what: str, kind: object) -> Markup:
    """A visible box naming what the view does not draw (never dropped silently)."""
    name = kind if isinstance(kind, str) else repr(kind)
    return el("div", {"class": ("nb-unsupported",), "role": "note"}, what, ": ", name[:100])


Marks = tuple[tuple[re.Pattern[str], str], ...]


def marks(text: str, held: Held, patterns: Marks) -> str:
    """Inline markers (pattern → tag) on escaped text; each span held whole, so spans nest and never interleave."""
    for i, (pattern, name) in enumerate(patterns):

        def span(m: re.Match[str], name: str = name, inner: int = i + 1) -> str:
            return held.hold(el(name, None, Markup(marks(m.group(1), held, patterns[inner:]))))

        text = pattern.sub(span, text)
    return text


class Held:
    """Rendered spans parked behind placeholders, so later passes over the text cannot see or split them."""

    _OPEN, _CLOSE = "\ue000", "\ue001"
    _REF = re.compile("\ue000(\\d+)\ue001")

    def __init__(self) -> None:
        self.spans: list[Markup] = []

    @classmethod
    def clean(cls, text: str) -> str:
        """Input text with the placeholder characters replaced, so input can never forge a placeholder."""
        return text.replace(cls._OPEN, "\ufffd").replace(cls._CLOSE, "\ufffd")

    def hold(self, span: Markup) -> str:
        """A placeholder for `span` (restored by `restore`)."""
        self.spans.append(span)
        return f"{self._OPEN}{len(self.spans) - 1}{self._CLOSE}"

    def restore(self, text: str) -> Markup:
        """`text` (escaped, with placeholders) with every held span put back, nested ones too."""
        return Markup(self._REF.sub(lambda m: str(self.restore(self.spans[int(m.group(1))])), text))
