"""Export pipelines: each writes one archive, chosen by ``FINEWS_EXPORTERS``."""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

from ..exceptions import SettingsError
from ..exporters import jekyll
from ..exporters.sqlite import ArchiveDatabase
from ..registry import Registry

logger = logging.getLogger(__name__)


def enabled_exporters(settings) -> set[str]:
    names = set(settings.getlist("FINEWS_EXPORTERS"))
    unknown = names - {"jekyll", "sqlite"}
    if unknown:
        raise SettingsError(f"FINEWS_EXPORTERS: unknown exporter(s) {sorted(unknown)}; use jekyll and/or sqlite")
    return names


def database_path(settings) -> Path:
    return Path(settings.get("FINEWS_DATA_DIR")) / settings.get("FINEWS_DB_NAME")


class JekyllExportPipeline:
    """Write ``_posts/<date>-<infoCode>.md`` and the newspaper's category page."""

    def __init__(self, data_dir: Path, site_url: str, stats, flushed_by_database: bool = False):
        self.root, self.site_url, self.stats = data_dir, site_url, stats
        self.flushed_by_database = flushed_by_database
        self.writer: jekyll.SiteWriter | None = None

    @classmethod
    def from_crawler(cls, crawler):
        exporters = enabled_exporters(crawler.settings)
        if "jekyll" not in exporters:
            raise NotConfigured("jekyll exporter not in FINEWS_EXPORTERS")
        return cls(Path(crawler.settings.get("FINEWS_DATA_DIR")), crawler.settings.get("FINEWS_SITE_URL"),
                   crawler.stats, flushed_by_database="sqlite" in exporters)

    def open_spider(self):
        for path in jekyll.remove_stale_temporaries(self.root):
            logger.warning("removed a temporary file left by a killed run: %s", path)
        jekyll.ensure_site(self.root)
        # With the database on, its pipeline flushes the posts before it records them
        # (one syncfs per batch); without it, every post is flushed as it is written.
        self.writer = jekyll.SiteWriter(self.root, self.site_url, fsync=not self.flushed_by_database)

    def process_item(self, item):
        if self.writer.write(ItemAdapter(item)):
            self.stats.inc_value("finews/posts_written")
        return item


class SqliteExportPipeline:
    """Upsert articles into ``finews.db``; count them as new, changed or unchanged.

    Articles are saved in batches, one transaction each, of at most
    ``FINEWS_SQLITE_BATCH_SIZE`` articles or ``FINEWS_SQLITE_BATCH_SECONDS`` seconds of
    waiting, whichever comes first (a timer saves an idle batch). The write lock is held
    only while a batch is written. Before a batch is written, the posts of its articles
    are flushed to disk (one ``syncfs``), so a row never stands for a post that a power
    cut could lose. A run killed before a batch is saved loses nothing: the posts are on
    disk, the database does not list the articles yet, so the next run fetches them
    again and writes the same bytes."""

    def __init__(self, path: Path, stats, batch_size: int, batch_seconds: float, posts_dir: Path | None = None):
        self.path, self.stats, self.db, self.posts_dir = path, stats, None, posts_dir
        self.batch_size, self.batch_seconds = max(1, batch_size), batch_seconds
        self.pending: list[dict] = []
        self.batch_started, self.timer = 0.0, None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if "sqlite" not in enabled_exporters(settings):
            raise NotConfigured("sqlite exporter not in FINEWS_EXPORTERS")
        posts_dir = Path(settings.get("FINEWS_DATA_DIR")) if "jekyll" in enabled_exporters(settings) else None
        return cls(database_path(settings), crawler.stats, settings.getint("FINEWS_SQLITE_BATCH_SIZE"),
                   settings.getfloat("FINEWS_SQLITE_BATCH_SECONDS"), posts_dir)

    def open_spider(self):
        self.db = ArchiveDatabase(self.path)
        self.db.sync_newspapers(Registry.load().papers)
        if self.batch_size > 1 and self.batch_seconds > 0:
            self.timer = LoopingCall(self._save_if_due)
            self.timer.start(min(self.batch_seconds, 1.0), now=False)

    def close_spider(self):
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        if self.db is not None:
            self._save()
            self.db.close()

    def process_item(self, item):
        if not self.pending:
            self.batch_started = time.monotonic()
        self.pending.append(ItemAdapter(item).asdict())
        if len(self.pending) >= self.batch_size:
            self._save()
        return item

    def _save_if_due(self):
        if self.pending and time.monotonic() - self.batch_started >= self.batch_seconds:
            self._save()

    def _save(self):
        batch, self.pending = self.pending, []
        if not batch:
            return
        if self.posts_dir is not None:
            jekyll.sync_filesystem(self.posts_dir)  # the posts are on disk before their rows
        try:
            statuses = self.db.save_articles(batch, datetime.now(timezone.utc))
        except sqlite3.Error as exc:
            self.stats.inc_value("finews/errors")
            self.stats.inc_value("finews/db_batches_failed")
            logger.error("could not record %d article(s) in %s (%s); nothing of the batch was written, "
                         "and its articles will be fetched again next run", len(batch), self.path, exc)
            return
        for status in statuses:
            self.stats.inc_value(f"finews/articles_{status}")
