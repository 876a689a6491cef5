from __future__ import annotations

from itemadapter import ItemAdapter

from ..cleaning import clean_body, clean_title, derive_text_fields
from . import ArticlePipeline


class CleanPipeline(ArticlePipeline):
    """Clean the title and body (``cleaning/``), move the credits into ``source`` and
    ``editor``, the tagged securities into ``mentions``, and drop an article with nothing
    left to archive."""

    def process_item(self, item):
        adapter = ItemAdapter(item)
        adapter["title"] = clean_title(adapter["title"])
        if not adapter["title"]:
            raise self.drop(item, "no_title", "title is empty after cleaning")
        cleaned = clean_body(adapter["body_html"], adapter.get("share_url"), adapter["newspaper"])
        body = cleaned.body
        if not body:
            raise self.drop(item, "empty_body", "body has no text left after cleaning")
        adapter["body_html"] = body
        adapter["source"] = cleaned.credits.source
        adapter["editor"] = cleaned.credits.editor
        adapter["mentions"] = [mention._asdict() for mention in cleaned.mentions]
        adapter["body_text"], adapter["content_hash"] = derive_text_fields(adapter["title"], body)
        return item
