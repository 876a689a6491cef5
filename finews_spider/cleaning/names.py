"""Newspaper names are upstream input: normalized and bounded, never a reason to lose an
article.

A name becomes a category (a slug, a file, a page), the post's tag and the text of the
footer link ``[返回NAME新闻](…)``. :func:`check_newspaper_name` gives the normalized name;
it refuses (:class:`NameRefused`) only what is no name at all: not text, or nothing left
once normalized (the article is then dropped as having no newspaper).

What happens to a name, in order:

1. HTML entities are decoded (``&nbsp;`` is a space, ``&lt;`` is ``<``), and the text is
   put in Unicode NFC (one spelling of each composed character);
2. every whitespace character (newlines, tabs, no-break and full-width ``　`` spaces) is
   a space; runs of spaces become one and the ends are stripped;
3. invisible characters are removed: control characters, zero-width spaces and joiners,
   byte-order marks, soft hyphens and bidirectional marks and overrides (Unicode ``Cc``/
   ``Cf``), which make two names look alike or reorder text on screen;
4. a name longer than :data:`MAX_NAME_LENGTH` characters is cut there (with ``…``).

**Anything else is kept as given**: markup (``<b>日报</b>``), a slash, Markdown syntax, an
emoji. A name is stored as text, and made safe where it is used: slugs are pinyin letters
and digits, bounded in length (``registry.slugify``), so no name can reach a path; the post
writes it through PyYAML and :func:`markdown_text`; the reading site, the feeds and
Datasette escape it. An article is archived whatever its paper's name.
"""

from __future__ import annotations

import html
import re
import unicodedata

#: Names are cut past this many characters (a name that long is a broken field, but the
#: article it comes with is kept).
MAX_NAME_LENGTH = 1000
_SPACES = re.compile(r"\s+")


class NameRefused(ValueError):
    """A newspaper name that cannot be used; the message says why."""


def _is_invisible(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf")


def check_newspaper_name(raw: object) -> str:
    """The normalized name, or :class:`NameRefused` with the reason.

    >>> check_newspaper_name(" 山西晚报\\n")
    '山西晚报'
    >>> check_newspaper_name("山西\\u3000\\u3000晚报")
    '山西 晚报'
    """
    if not isinstance(raw, str):
        raise NameRefused(f"the name is a {type(raw).__name__}, not text")
    text = unicodedata.normalize("NFC", html.unescape(raw))
    text = _SPACES.sub(" ", text)
    text = "".join(ch for ch in text if not _is_invisible(ch))
    text = _SPACES.sub(" ", text).strip()
    if not text:
        raise NameRefused(f"nothing is left of the name {raw!r} but spaces and invisible characters")
    if len(text) > MAX_NAME_LENGTH:
        text = text[: MAX_NAME_LENGTH - 1] + "…"
    return text


def normalize_newspaper_name(raw: object) -> str | None:
    """:func:`check_newspaper_name`, with ``None`` for a refused name.

    >>> normalize_newspaper_name("\u200b\u3000") is None
    True
    """
    try:
        return check_newspaper_name(raw)
    except NameRefused:
        return None


_MARKDOWN_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]{}<>&|$!#]")


def markdown_text(text: str) -> str:
    r"""``text`` safe as inline Markdown (kramdown) text, e.g. a link's text: markup
    characters as entities, Markdown syntax backslash-escaped, line breaks as spaces.
    It changes no ordinary name (letters, digits, spaces, the punctuation of newspaper
    names), so their posts keep their bytes: ``&`` is escaped only where it would start
    an entity (``&lt;``), and a lone ``&`` (``AT&T``) is printed as ``&amp;`` by kramdown
    itself.

    >>> print(markdown_text("[x](javascript:alert(1))<b>"))
    \[x\](javascript:alert(1))&lt;b&gt;
    """
    text = _SPACES.sub(" ", text)

    def escape(match: re.Match) -> str:
        ch = match.group(0)
        if ch == "&":
            rest = text[match.end() :]
            return "&amp;" if re.match(r"#?\w+;", rest) else "&"
        return _MARKDOWN_ENTITIES.get(ch) or "\\" + ch

    return _MARKDOWN_SPECIAL.sub(escape, text)
