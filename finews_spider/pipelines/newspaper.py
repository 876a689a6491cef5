from __future__ import annotations

from itemadapter import ItemAdapter

from ..exporters.sqlite import ArchiveDatabase
from ..registry import Registry
from . import ArticlePipeline
from .export import database_path, enabled_exporters


class NewspaperPipeline(ArticlePipeline):
    """Give the article its newspaper's slug: the registry's, or for a paper missing from
    it, the slug the archive already gave that name (so categories never split between
    runs), else a new unique one from its pinyin."""

    def __init__(self, stats, registry: Registry, db_path=None):
        super().__init__(stats)
        self.registry, self.db_path = registry, db_path

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        db_path = database_path(settings) if "sqlite" in enabled_exporters(settings) else None
        return cls(crawler.stats, Registry.load(), db_path)

    def open_spider(self):
        if self.db_path is not None and self.db_path.exists():
            db = ArchiveDatabase(self.db_path)
            try:
                self.registry.remember(dict(db.conn.execute("SELECT name, slug FROM newspapers")))
            finally:
                db.close()

    def process_item(self, item):
        adapter = ItemAdapter(item)
        adapter["slug"] = self.registry.paper_for(adapter["newspaper"]).slug
        return item
