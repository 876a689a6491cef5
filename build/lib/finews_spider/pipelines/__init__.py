"""Item pipelines, in the order ``settings.ITEM_PIPELINES`` runs them:

validate (100) -> clean (200) -> publish (500, hands the article to the archive).

The archive writes posts (flushed to disk) before the database rows on purpose: the
database is what later runs consult to skip archived articles, so a run killed between
the two re-fetches the article next time instead of leaving a row without its post.
"""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from ..run import Stat, dropped_stat


class ArticlePipeline:
    """Base of the pipelines that judge articles: built ``from_crawler`` with its stats,
    and :meth:`drop` to refuse an article with a reason."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def drop(self, item, reason: str, message: str) -> DropItem:
        """Count a dropped article under ``finews/dropped/<reason>`` and return the
        ``DropItem`` to raise; Scrapy logs its message with the item."""
        code = ItemAdapter(item).get("info_code")
        self.stats.inc_value(Stat.ARTICLES_DROPPED)
        self.stats.inc_value(dropped_stat(reason))
        return DropItem(f"article {code!r} dropped ({reason}): {message}")
