"""The last pipeline: hand each cleaned article to the archive and wait until it is
recorded, so what follows (``-O`` feed exports, the ``item_scraped`` signal) sees the
article as archived: its slug, status, ``doc_id`` and seen times."""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from ..extensions.archive import ArchiveExtension
from ..run import COUNTED, Stat

logger = logging.getLogger(__name__)


class NotRecorded(DropItem):
    """An article whose batch could not be committed: not archived (the next run, or the
    writer's next start, tries it again)."""


class PublishPipeline:
    """Counts each article under ``finews/articles_<status>`` (new, changed, unchanged),
    or, when its batch could not be recorded, ``finews/articles_failed`` and
    ``finews/errors`` (the article is not archived, so the next run fetches it again)."""

    def __init__(self, crawler, archive: ArchiveExtension):
        self.crawler, self.archive = crawler, archive

    @classmethod
    def from_crawler(cls, crawler):
        archive = crawler.get_extension(ArchiveExtension)
        if archive is None:
            raise RuntimeError("PublishPipeline needs the ArchiveExtension (EXTENSIONS)")
        return cls(crawler, archive)

    async def process_item(self, item):
        adapter = ItemAdapter(item)
        stats = self.crawler.stats
        try:
            decided = await self.archive.publish(adapter.asdict())
        except Exception as exc:
            stats.inc_value(Stat.ARTICLES_FAILED)
            stats.inc_value(Stat.ERRORS)
            logger.error(
                "article %s could not be recorded (%s: %s); nothing of its batch was committed, and it "
                "will be fetched again next run",
                adapter.get("info_code"),
                type(exc).__name__,
                exc,
                extra=COUNTED,
            )
            raise NotRecorded(f"not recorded: {exc}") from exc
        for key, value in decided.items():
            if key in adapter.field_names():
                adapter[key] = value
        stats.inc_value(Stat.BY_STATUS[decided["status"]])
        return item

    async def close_spider(self):
        await self.archive.flush()
