"""Newspaper names are upstream input: normalized, bounded and checked before any use.

A name becomes a category (a slug, a file, a page), the post's tag and the text of the
footer link ``[返回NAME新闻](…)``. :func:`check_newspaper_name` gives the clean name or
raises :class:`NameRefused` (a ``ValueError``) saying why; :func:`normalize_newspaper_name`
gives ``None`` instead of raising.

What happens to a name, in order:

1. HTML entities are decoded (``&nbsp;`` is a space, ``&lt;`` is ``<``), and the text is
   put in Unicode NFC (one spelling of each composed character);
2. every whitespace character (newlines, tabs, no-break and full-width ``　`` spaces) is
   a space; runs of spaces become one and the ends are stripped;
3. invisible characters are removed: control characters, zero-width spaces and joiners,
   byte-order marks, soft hyphens and bidirectional marks and overrides (Unicode ``Cc``/
   ``Cf``), which make two names look alike or reorder text on screen;
4. what is left is refused when it is empty, longer than :data:`MAX_NAME_LENGTH`
   characters, holds a character outside letters, digits, spaces and the punctuation of
   newspaper names (:data:`NAME_PUNCTUATION`), or has no letter at all.

**Markup is refused, not stripped.** ``<script>alert(1)</script>日报`` is not the name of
a newspaper with a tag around it: stripping the tag would invent a paper (``alert(1)日报``
or ``日报``) that then gets a category, a slug the archive keeps forever and a place in
every attribution line. Refusing drops that article with the stated reason
``newspaper``, which is visible in the run's stats, and a corrected feed archives it
later. The same holds for path characters (``../``), Markdown link syntax (``[``, ``]``)
and emoji: none belongs in a newspaper's name.

Because every accepted name is made only of letters, digits, spaces and
:data:`NAME_PUNCTUATION`, none can form Markdown or HTML; :func:`markdown_text` is still
applied where a name is written as Markdown, for names that never passed here (rows of an
older archive), and changes nothing in an accepted name.
"""

from __future__ import annotations

import html
import re
import unicodedata

MAX_NAME_LENGTH = 40
# Punctuation seen in the names of Chinese newspapers and their English forms: 《人民日报》
# 海外版, 21世纪经济报道, China Daily (HK), 新京报·北京, Xi'an Evening News.
NAME_PUNCTUATION = frozenset("·・-–—()（）《》〈〉“”‘’'\".．,，、:：&")
_SPACES = re.compile(r"\s+")


class NameRefused(ValueError):
    """A newspaper name that cannot be used; the message says why."""


def _is_invisible(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf")


def _allowed(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "LMN" or ch == " " or ch in NAME_PUNCTUATION


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
        raise NameRefused(f"the name is {len(text)} characters long, more than {MAX_NAME_LENGTH}: {text[:20]!r}…")
    bad = next((ch for ch in text if not _allowed(ch)), None)
    if bad is not None:
        what = "markup" if bad in "<>" else "a path character" if bad in "/\\" else "a character"
        raise NameRefused(f"the name {text!r} holds {what} {bad!r} (U+{ord(bad):04X}) that no newspaper name has")
    if not any(unicodedata.category(ch).startswith("L") for ch in text):
        raise NameRefused(f"the name {text!r} has no letter")
    return text


def normalize_newspaper_name(raw: object) -> str | None:
    """:func:`check_newspaper_name`, with ``None`` for a refused name.

    >>> normalize_newspaper_name("<script>alert(1)</script>日报") is None
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
    It changes no name that :func:`check_newspaper_name` accepts, so posts keep their
    bytes: ``&`` is escaped only where it would start an entity (``&lt;``), which an
    accepted name cannot hold (no ``;``), and a lone ``&`` (``AT&T``) is printed as
    ``&amp;`` by kramdown itself.

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
