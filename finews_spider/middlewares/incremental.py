"""Skip articles the archive already holds, so a run over an unchanged feed sends only
the feed requests."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from ..cleaning import clean_title, parse_published_at
from ..exporters.sqlite import ArchiveDatabase
from ..pipelines.export import database_path, enabled_exporters
from ..spiders.base import RECORD_META

logger = logging.getLogger(__name__)


def needs_fetch(record: dict, archived: dict | None, *, refresh: bool, recheck_hours: float, now: datetime) -> str | None:
    """Why a feed record must be fetched (``None``: it is archived as listed).

    Pure: ``archived`` is the article's database row (or ``None``)."""
    if archived is None:
        return "new"
    if refresh:
        return "refresh"
    if clean_title(record.get("title")) != archived["title"]:
        return "title changed"
    try:
        listed = parse_published_at(record.get("datetime")).isoformat()
    except ValueError:
        listed = None
    if listed != archived["published_at"]:
        return "date changed"
    if recheck_hours > 0:
        published = datetime.fromisoformat(archived["published_at"])
        if now - published < timedelta(hours=recheck_hours):
            return "recheck"
    return None


class SkipArchivedMiddleware(BaseSpiderMiddleware):
    """Drops the text request of a feed record whose article is archived with the same
    title and date, unless the spider runs with ``refresh`` or the article is younger
    than ``FINEWS_RECHECK_HOURS``. Knowledge comes from the SQLite archive itself."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.path = database_path(crawler.settings)
        self.recheck_hours = crawler.settings.getfloat("FINEWS_RECHECK_HOURS")
        self.db: ArchiveDatabase | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if "sqlite" not in enabled_exporters(crawler.settings):
            raise NotConfigured("no SQLite archive to know what is archived")
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_closed(self, spider):
        if self.db is not None:
            self.db.close()
            self.db = None

    def get_processed_request(self, request, response):
        record = request.meta.get(RECORD_META)
        if record is None or "title" not in record:
            return request  # feed requests, and share URLs asked for by name
        if self.db is None:
            if not self.path.exists():
                return request
            self.db = ArchiveDatabase(self.path)
        spider = self.crawler.spider
        reason = needs_fetch(
            record, self.db.get(record["info_code"], "title, published_at"),
            refresh=bool(getattr(spider, "refresh", False)),
            recheck_hours=self.recheck_hours, now=datetime.now(timezone.utc),
        )
        if reason is None:
            self.crawler.stats.inc_value("finews/articles_skipped")
            return None
        if reason != "new":
            self.crawler.stats.inc_value(f"finews/refetch/{reason.replace(' ', '_')}")
            logger.debug("re-fetching %s: %s", record["info_code"], reason)
        return request
