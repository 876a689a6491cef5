"""Article bodies: sanitize on an allow-list, unwrap stock widgets, drop live K-line charts,
tidy paragraphs, and collect the securities the service tagged (``mentions.py``).

The sanitizer is nh3 (Python bindings of the Rust crate ammonia, an html5ever-based
allow-list sanitizer): it parses like a browser does, so what it lets through is what a
browser would render, and it is fast enough to clean thousands of bodies a second.
"""

from __future__ import annotations

import html
import re
from typing import NamedTuple

import nh3

from .attribution import Credits, canonical_attribution, split_credits
from .mentions import Mention, drop_kline_pictures, find_mentions

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "div",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "s",
        "sub",
        "sup",
        "small",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "blockquote",
        "pre",
        "code",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "caption",
        "a",
        "img",
        "figure",
        "figcaption",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
ALLOWED_CLASSES = {"p": {"em_media"}}
URL_SCHEMES = frozenset({"http", "https"})
# Tags removed together with everything inside them: none of it is the newspaper's text.
DROP_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "template", "noscript", "select", "textarea", "button"}
)

_STOCK_WIDGET = re.compile(r"<!--\s*EM_StockCode_Start\s*-->(.*?)<!--\s*EM_StockCode_End\s*-->", re.S)
_INDENT = r"(?:\s|&nbsp;|&#160;|&#xa0;|&#12288;|\u3000|\u00a0)"
_BLOCKS = r"(?:p|div|h[1-6]|li|blockquote|td|th|figcaption)"
_LEADING_INDENT = re.compile(r"(<" + _BLOCKS + r"(?:\s[^>]*)?>(?:<(?:strong|b|em|i|u)>)*)" + _INDENT + "+")
_EMPTY_PARAGRAPH = re.compile(r"\s*<p(?:\s[^>]*)?>(?:" + _INDENT + r"|<br\s*/?>)*</p>")
_BLOCK_END = re.compile(r"</(?:p|div|h[1-6]|li|tr|blockquote|pre|figure|figcaption|table)>|<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]*>")


def _unwrap_stock_widget(match: re.Match) -> str:
    # Keep the widget's visible text (the company name), lose its links and scripts.
    return nh3.clean(match.group(1), tags=set(), clean_content_tags=set(DROP_WITH_CONTENT))


def sanitize_html(body: str, base_url: str | None = None) -> str:
    """Allow-listed article markup only; relative URLs resolved against ``base_url``.

    Scripts, styles, iframes, objects, forms, comments, event handlers and style
    attributes go; links and images keep only http(s) URLs. The text inside removed
    wrappers (``span``, ``font``, ``form``...) is kept. Live K-line charts go
    (:func:`~finews_spider.cleaning.mentions.drop_kline_pictures`).
    """
    body = drop_kline_pictures(body)
    body = _STOCK_WIDGET.sub(_unwrap_stock_widget, body)
    return nh3.clean(
        body,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        allowed_classes={tag: set(c) for tag, c in ALLOWED_CLASSES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative=("rewrite_with_base", base_url) if base_url else "deny",
        link_rel=None,
        strip_comments=True,
    )


def tidy_paragraphs(body: str) -> str:
    """Drop the leading full-width / no-break-space indentation of every paragraph (and
    heading, list item, cell...), then the paragraphs left empty."""
    body = _LEADING_INDENT.sub(r"\1", body)
    return _EMPTY_PARAGRAPH.sub("", body).strip()


class _BodyAndCredits(NamedTuple):
    body: str
    credits: Credits


class CleanedBody(_BodyAndCredits):
    """What :func:`clean_body` returns: ``.body``, ``.credits`` and ``.mentions``.

    It unpacks as ``body, credits = clean_body(...)``, as it always has; the mentions
    ride along as an attribute (a tuple of :class:`~finews_spider.cleaning.mentions.Mention`).
    """

    mentions: tuple[Mention, ...] = ()

    def __new__(cls, body: str, credits: Credits, mentions: tuple[Mention, ...] = ()):
        self = super().__new__(cls, body, credits)
        self.mentions = tuple(mentions)
        return self

    def __repr__(self) -> str:
        return f"CleanedBody(body={self.body!r}, credits={self.credits!r}, mentions={self.mentions!r})"


def clean_body(body: str, base_url: str | None = None, fallback_source: str | None = None) -> CleanedBody:
    """The whole body rule: collect the mentions, sanitize, tidy, and normalise the credits.

    Returns ``(body_html, credits)`` with ``.mentions``. ``body_html`` ends with exactly one
    canonical attribution paragraph naming ``credits.source`` (the newspaper's own
    attribution if the body had one, else ``fallback_source``); it is ``""`` when no text
    is left. ``mentions`` are read from the raw body, since sanitizing drops the codes;
    tags in the credits are not mentions (see ``mentions.py``).
    """
    body = body or ""
    mentions = find_mentions(body)
    tidy = tidy_paragraphs(sanitize_html(body, base_url))
    rest, credits = split_credits(tidy)
    rest = rest.strip()
    source = credits.source or fallback_source
    credits = credits._replace(source=source)
    if not html_to_text(rest).strip():
        return CleanedBody("", credits, mentions)
    if source:
        rest = rest + canonical_attribution(source)
    return CleanedBody(rest, credits, mentions)


def html_to_text(body: str) -> str:
    """Plain text of a (clean) body: one line per block, entities decoded."""
    text = _TAG.sub("", _BLOCK_END.sub(lambda m: m.group(0) + "\n", body))
    lines = (line.strip(" \t\u3000\u00a0") for line in html.unescape(text).splitlines())
    return "\n".join(line for line in lines if line)
