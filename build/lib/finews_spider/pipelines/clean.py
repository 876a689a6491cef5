from __future__ import annotations

from itemadapter import ItemAdapter

from ..cleaning import ArticleRefused, clean_article_fields
from . import ArticlePipeline


class CleanPipeline(ArticlePipeline):
    """Clean the title and body (``cleaning/``), move the credits into ``source`` and
    ``editor``, the tagged securities into ``mentions``, and drop an article with nothing
    left to archive (``cleaning.clean_article_fields``, also used by ``scrapy import``)."""

    def process_item(self, item):
        adapter = ItemAdapter(item)
        try:
            fields = clean_article_fields(
                adapter["title"], adapter["body_html"], adapter.get("share_url"), adapter["newspaper"]
            )
        except ArticleRefused as exc:
            raise self.drop(item, exc.reason, str(exc)) from None
        for key, value in fields.items():
            adapter[key] = value
        return item
