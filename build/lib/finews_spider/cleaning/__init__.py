"""Pure functions that turn upstream fields into archive fields. Nothing here touches
the network or the disk, so every rule is testable on its own."""

from .article import ArticleRefused, clean_article_fields
from .attribution import Credits, canonical_attribution, credits_in, split_credits
from .body import CleanedBody, clean_body, html_to_text, sanitize_html, tidy_paragraphs
from .dates import parse_published_at
from .mentions import MARKET_EXCHANGES, Mention, drop_kline_pictures, exchange_of, find_mentions
from .text import clean_title, content_hash, derive_text_fields

__all__ = [
    "ArticleRefused",
    "MARKET_EXCHANGES",
    "CleanedBody",
    "Credits",
    "Mention",
    "canonical_attribution",
    "clean_article_fields",
    "clean_body",
    "clean_title",
    "content_hash",
    "credits_in",
    "derive_text_fields",
    "drop_kline_pictures",
    "exchange_of",
    "find_mentions",
    "html_to_text",
    "parse_published_at",
    "sanitize_html",
    "split_credits",
    "tidy_paragraphs",
]
