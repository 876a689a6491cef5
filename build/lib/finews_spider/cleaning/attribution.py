"""Source attribution (文章来源) and editor credits (责任编辑) of a body."""

from __future__ import annotations

import html
import re
from typing import NamedTuple


class Credits(NamedTuple):
    source: str | None = None
    editor: str | None = None


_NAME = r"[^<>()（）:：\n]+?"
_CREDIT = (
    r"[(（]?\s*(?P<label>文章来源|来源|责任编辑|编辑)\s*[:：]\s*(?P<name>" + _NAME + r")\s*[)）]?"
    r"(?=(?:\s|&nbsp;|\u3000)*(?:$|[(（]|(?:文章来源|来源|责任编辑|编辑)\s*[:：]))"
)
_CREDIT_RE = re.compile(_CREDIT)
_CREDITS_ONLY = re.compile(r"(?:\s|&nbsp;|\u3000)*(?:" + _CREDIT + r"(?:\s|&nbsp;|\u3000)*)+")
# A whole paragraph (or div) holding nothing but credits, possibly inside inline markup.
_CREDIT_BLOCK = re.compile(
    r"\s*<(?P<tag>p|div)(?P<attrs>\s[^>]*)?>(?P<inner>(?:(?!</?(?:p|div)\b).)*?)</(?P=tag)>", re.S
)
# Inline markup that may split a credit (上海<a …>证券</a>报): read through, with its attributes.
_INLINE_TAGS = re.compile(r"</?(?:strong|b|em|i|u|s|sub|sup|small|code|span|font|a)\b[^>]*>", re.I)
# Credits written as bare text after the last block (inline markup allowed, as in blocks).
_TRAILING = re.compile(r"(?P<before>(?:</(?:p|div)>|^))(?P<inner>(?:[^<]|<(?!/?(?:p|div)\b)[^>]*>)*)$")


def credits_in(text: str) -> list[tuple[str, str]] | None:
    """The (label, name) pairs if ``text`` (the inside of one paragraph) is nothing but
    credits, else ``None``. Inline markup inside it (links, spans, bold...) is read through,
    so ``（文章来源：上海<a href="…">证券</a>报）`` credits 上海证券报.

    >>> credits_in('（文章来源：上海<span><a href="x">证券</a></span>报）')
    [('文章来源', '上海证券报')]
    """
    text = _INLINE_TAGS.sub("", text)
    if not text.strip() or not _CREDITS_ONLY.fullmatch(text):
        return None
    return [(m["label"], html.unescape(m["name"]).strip()) for m in _CREDIT_RE.finditer(text)]


def split_credits(body: str) -> tuple[str, Credits]:
    """Remove every credit paragraph from a sanitized body and say what they credited.

    Recognises ``<p class="em_media">（文章来源：X）</p>``, plain paragraphs such as
    ``<p>来源：X</p>`` or ``<p>(责任编辑：Y)</p>``, half- or full-width brackets and
    colons, and the same as bare text after the last paragraph. The first attribution
    in an ``em_media`` paragraph wins, then the last one found.
    """
    found: list[tuple[str, str, bool]] = []  # (label, name, in em_media)

    def take(match: re.Match) -> str:
        pairs = credits_in(match["inner"])
        if pairs is None:
            return match.group(0)
        media = "em_media" in (match["attrs"] or "")
        found.extend((label, name, media) for label, name in pairs)
        return ""

    def take_trailing(match: re.Match) -> str:
        pairs = credits_in(match["inner"])
        if pairs is None:
            return match.group(0)
        found.extend((label, name, False) for label, name in pairs)
        return match["before"]

    body = _CREDIT_BLOCK.sub(take, body)
    body = _TRAILING.sub(take_trailing, body)
    body = body.rstrip()
    sources = [(name, media) for label, name, media in found if "来源" in label and name]
    editors = [name for label, name, _ in found if "编辑" in label and name]
    source = next((n for n, media in sources if media), sources[-1][0] if sources else None)
    return body, Credits(source=source, editor=editors[0] if editors else None)


def canonical_attribution(source: str) -> str:
    """The one attribution paragraph an archived body ends with."""
    return f'<p class="em_media">（文章来源：{html.escape(source, quote=False)}）</p>'
