"""Skip articles the archive already holds, so a run over an unchanged feed sends only
the feed requests."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from scrapy import Request
from scrapy.exceptions import NotConfigured

from ..cleaning import clean_title, parse_published_at
from ..config import config_for
from ..extensions.archive import ArchiveExtension
from ..meta import SKIP_IF_ARCHIVED
from ..run import Stat, refetch_stat

logger = logging.getLogger(__name__)


def needs_fetch(record: dict, archived: dict | None, *, recheck_hours: float, now: datetime) -> str | None:
    """Why a feed record must be fetched (``None``: it is archived as listed).

    Pure: ``archived`` is the article's ``title`` and ``published_at`` (or ``None``)."""
    if archived is None:
        return "new"
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


class SkipArchivedMiddleware:
    """Drops the text request of a feed record whose article is archived with the same
    title and date, unless the article is younger than ``FINEWS_RECHECK_HOURS`` (a spider
    asked to ``refresh`` simply does not mark its requests). Asks the archive once per feed response, on its writer
    thread. Counts ``finews/articles_skipped`` and ``finews/refetch/<reason>``."""

    def __init__(self, crawler, archive: ArchiveExtension):
        self.crawler, self.archive = crawler, archive
        self.recheck_hours = config_for(crawler).recheck_hours

    @classmethod
    def from_crawler(cls, crawler):
        archive = crawler.get_extension(ArchiveExtension)
        if archive is None or not archive.remembers:
            raise NotConfigured("no database to know what is archived")
        return cls(crawler, archive)

    async def process_spider_output(self, response, result):
        held: list[Request] = []
        async for output in result:
            if isinstance(output, Request) and SKIP_IF_ARCHIVED in output.meta:
                held.append(output)
            else:
                yield output
        if not held:
            return
        versions = await self.archive.fetch_versions([r.meta[SKIP_IF_ARCHIVED]["info_code"] for r in held])
        now = datetime.now(UTC)
        stats = self.crawler.stats
        for request in held:
            record = request.meta[SKIP_IF_ARCHIVED]
            version = versions.get(record["info_code"])
            archived = {"title": version[0], "published_at": version[1]} if version else None
            reason = needs_fetch(record, archived, recheck_hours=self.recheck_hours, now=now)
            if reason is None:
                stats.inc_value(Stat.ARTICLES_SKIPPED)
                continue
            if reason != "new":
                stats.inc_value(refetch_stat(reason))
                logger.debug("re-fetching %s: %s", record["info_code"], reason)
            yield request
