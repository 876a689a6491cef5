"""Titles and hashes."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

from .body import html_to_text

_BREAKS = re.compile(r"[\r\n\t\u0085\u2028\u2029\v\f]+")


def clean_title(title: str | None) -> str:
    """A one-line title: HTML entities decoded, line breaks and tabs folded to one space, other
    control characters dropped, surrounding white space trimmed."""
    if not title:
        return ""
    text = _BREAKS.sub(" ", html.unescape(title))
    text = "".join(ch for ch in text if ch == " " or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def content_hash(title: str, body_html: str) -> str:
    """What identifies a version of an article: its title and its cleaned body."""
    return hashlib.sha256(f"{title}\x00{body_html}".encode()).hexdigest()


def derive_text_fields(title: str, body_html: str) -> tuple[str, str]:
    """The fields derived from a cleaned title and body: (plain text of the body, content
    hash). The one place they are computed, for new articles and old rows alike."""
    return html_to_text(body_html), content_hash(title, body_html)
