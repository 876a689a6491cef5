"""Pure functions that turn upstream fields into archive fields. Nothing here touches
the network or the disk, so every rule is testable on its own."""

from .attribution import Credits, canonical_attribution, split_credits
from .body import clean_body, html_to_text, sanitize_html, tidy_paragraphs
from .dates import parse_published_at
from .text import clean_title, content_hash, derive_text_fields

__all__ = [
    "Credits",
    "canonical_attribution",
    "clean_body",
    "clean_title",
    "content_hash",
    "derive_text_fields",
    "html_to_text",
    "parse_published_at",
    "sanitize_html",
    "split_credits",
    "tidy_paragraphs",
]
