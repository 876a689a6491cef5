"""Export pipelines: each writes one archive, chosen by ``FINEWS_EXPORTERS``."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from ..exporters import jekyll
from ..exporters.sqlite import ArchiveDatabase
from ..registry import Registry

logger = logging.getLogger(__name__)


def enabled_exporters(settings) -> set[str]:
    names = set(settings.getlist("FINEWS_EXPORTERS"))
    unknown = names - {"jekyll", "sqlite"}
    if unknown:
        raise ValueError(f"FINEWS_EXPORTERS: unknown exporter(s) {sorted(unknown)}; use jekyll and/or sqlite")
    return names


def database_path(settings) -> Path:
    return Path(settings.get("FINEWS_DATA_DIR")) / settings.get("FINEWS_DB_NAME")


class JekyllExportPipeline:
    """Write ``_posts/<date>-<infoCode>.md`` and the newspaper's category page."""

    def __init__(self, data_dir: Path, site_url: str, stats):
        self.root, self.site_url, self.stats = data_dir, site_url.rstrip("/"), stats

    @classmethod
    def from_crawler(cls, crawler):
        if "jekyll" not in enabled_exporters(crawler.settings):
            raise NotConfigured("jekyll exporter not in FINEWS_EXPORTERS")
        return cls(Path(crawler.settings.get("FINEWS_DATA_DIR")), crawler.settings.get("FINEWS_SITE_URL"), crawler.stats)

    def open_spider(self):
        for path in jekyll.remove_stale_temporaries(self.root):
            logger.warning("removed a temporary file left by a killed run: %s", path)
        jekyll.ensure_site(self.root)

    def process_item(self, item):
        adapter = ItemAdapter(item)
        path = self.root / jekyll.POSTS_DIR / jekyll.post_filename(adapter["info_code"], adapter["published_at"])
        if jekyll.write_atomic(path, jekyll.format_post(adapter, self.site_url)):
            self.stats.inc_value("finews/posts_written")
        category = self.root / jekyll.CATEGORY_DIR / f"{adapter['slug']}.html"
        if not category.exists():
            jekyll.write_atomic(category, jekyll.format_category_page(adapter["newspaper"], adapter["slug"]))
        return item


class SqliteExportPipeline:
    """Upsert the article into ``finews.db``; count it as new, changed or unchanged."""

    def __init__(self, path: Path, stats):
        self.path, self.stats, self.db = path, stats, None

    @classmethod
    def from_crawler(cls, crawler):
        if "sqlite" not in enabled_exporters(crawler.settings):
            raise NotConfigured("sqlite exporter not in FINEWS_EXPORTERS")
        return cls(database_path(crawler.settings), crawler.stats)

    def open_spider(self):
        self.db = ArchiveDatabase(self.path)
        self.db.sync_newspapers(Registry.load().papers)

    def close_spider(self):
        if self.db is not None:
            self.db.close()

    def process_item(self, item):
        adapter = ItemAdapter(item)
        status = self.db.save_article(adapter, datetime.now(timezone.utc))
        self.stats.inc_value(f"finews/articles_{status}")
        return item
