"""HTML from outside the store (imported product descriptions) made safe, or turned into plain text.

``sanitize_html`` keeps an allow-list of formatting tags and safe link targets and drops everything
else: scripts, styles, event handlers, inline styles, iframes and their content. ``html_to_text``
renders HTML as the plain text the store shows and indexes (product descriptions are displayed as
text with line breaks, and search and the assistant read them as text): paragraphs become blank
lines, ``<br>`` a line break, list items a bullet. Both are built on the standard library's
tolerant ``html.parser``, so broken markup never raises.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

ALLOWED_TAGS = frozenset(
    {"p", "div", "span", "br", "hr", "strong", "b", "em", "i", "u", "s", "sub", "sup", "code", "pre", "blockquote"}
    | {"ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a"}
)
ALLOWED_ATTRIBUTES = {"a": frozenset({"href", "title"})}
VOID_TAGS = frozenset({"br", "hr"})
# Tags whose content is never text for a reader: dropped with everything inside them.
DROP_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math", "head", "title", "textarea"}
)
BLOCK_TAGS = frozenset(
    {"p", "div", "section", "article", "header", "footer", "blockquote", "table", "tr", "ul", "ol", "pre"}
    | {"h1", "h2", "h3", "h4", "h5", "h6"}
)
SAFE_URL_SCHEMES = ("http://", "https://", "mailto:")
_TAG_PATTERN = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def looks_like_html(text: str) -> bool:
    """Whether the text holds markup (a tag or an entity), as Shopify's Body (HTML) does."""
    return bool(_TAG_PATTERN.search(text))


def _safe_href(value: str) -> str | None:
    """Absolute http(s)/mailto links and same-site paths only: ``javascript:``, ``data:`` and
    scheme tricks hidden with whitespace or entities are refused."""
    compact = re.sub(r"[\s\x00-\x1f]+", "", value).lower()
    if compact.startswith(SAFE_URL_SCHEMES) or (compact.startswith("/") and not compact.startswith("//")):
        return value.strip()
    return None


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.dropping = 0  # depth inside script/style/…

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_WITH_CONTENT:
            self.dropping += 1
            return
        if self.dropping or tag not in ALLOWED_TAGS:
            return
        kept = []
        for name, value in attrs:
            if name not in ALLOWED_ATTRIBUTES.get(tag, ()) or value is None:
                continue
            if name == "href":
                value = _safe_href(value)
                if value is None:
                    continue
            kept.append(f' {name}="{escape(value, quote=True)}"')
        if tag == "a" and kept:
            kept.append(' rel="nofollow noopener"')
        self.out.append(f"<{tag}{''.join(kept)}>")
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_WITH_CONTENT:
            return
        self.handle_starttag(tag, attrs)
        if tag in self.open and tag not in VOID_TAGS and self.open[-1] == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_WITH_CONTENT:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping or tag not in self.open:
            return
        while self.open:  # close anything left open inside it, so the output is well nested
            closing = self.open.pop()
            self.out.append(f"</{closing}>")
            if closing == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(escape(_CONTROL.sub("", data), quote=False))

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self.open))


def sanitize_html(html: str) -> str:
    """Keep only allow-listed tags and attributes (links get ``rel="nofollow noopener"``); comments,
    doctype and processing instructions vanish; text is re-escaped."""
    parser = _Sanitizer()
    parser.feed(html)
    return parser.result()


class _TextRenderer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping = 0
        self.pre = 0

    def _break(self, count: int) -> None:
        self.parts.append("\n" * count)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_WITH_CONTENT:
            self.dropping += 1
        elif self.dropping:
            return
        elif tag == "br":
            self._break(1)
        elif tag == "hr":
            self._break(2)
        elif tag == "li":
            self._break(1)
            self.parts.append("• ")
        elif tag in BLOCK_TAGS:
            self._break(2)
            if tag == "pre":
                self.pre += 1
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_WITH_CONTENT:
            self.dropping = max(0, self.dropping - 1)
        elif not self.dropping and tag in BLOCK_TAGS:
            self._break(2)
            if tag == "pre" and self.pre:
                self.pre -= 1

    def handle_data(self, data: str) -> None:
        if self.dropping:
            return
        data = _CONTROL.sub("", data)
        self.parts.append(data if self.pre else re.sub(r"\s+", " ", data))

    def result(self) -> str:
        self.close()
        lines = [line.strip() for line in "".join(self.parts).replace("\xa0", " ").split("\n")]
        text = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML fragment; scripts and styles contribute nothing."""
    parser = _TextRenderer()
    parser.feed(html)
    return parser.result()


def clean_description(text: str) -> str:
    """A description as the store keeps it: plain text. Markup is first reduced to the allow-list,
    then rendered as text; text without markup only has its line endings normalised."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if looks_like_html(text):
        return html_to_text(sanitize_html(text))
    return re.sub(r"\n{3,}", "\n\n", _CONTROL.sub("", text)).strip()
