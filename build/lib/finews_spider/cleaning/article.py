"""One article's cleaning, as the clean pipeline and ``scrapy import`` both apply it."""

from __future__ import annotations

from .body import clean_body
from .text import clean_title, derive_text_fields


class ArticleRefused(ValueError):
    """An article with nothing left to archive: ``reason`` is the short word it is
    counted under (``no_title``, ``empty_body``), the message says why."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def clean_article_fields(title: str | None, body_html: str, share_url: str | None, newspaper: str) -> dict:
    """The archive fields of an article from its raw title and body: ``title``,
    ``body_html``, ``source``, ``editor``, ``mentions`` (list of dicts), ``body_text``,
    ``content_hash``. Raises :class:`ArticleRefused` when the title or the body is empty
    once cleaned."""
    title = clean_title(title)
    if not title:
        raise ArticleRefused("no_title", "title is empty after cleaning")
    cleaned = clean_body(body_html, share_url, newspaper)
    if not cleaned.body:
        raise ArticleRefused("empty_body", "body has no text left after cleaning")
    body_text, content_hash = derive_text_fields(title, cleaned.body)
    return {
        "title": title,
        "body_html": cleaned.body,
        "source": cleaned.credits.source,
        "editor": cleaned.credits.editor,
        "mentions": [mention._asdict() for mention in cleaned.mentions],
        "body_text": body_text,
        "content_hash": content_hash,
    }
