"""``scrapy rebuild``: write every post again from the SQLite archive, offline."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from scrapy.commands import ScrapyCommand

from ..exporters import jekyll
from ..exporters.sqlite import ArchiveDatabase
from ..pipelines.export import database_path
from .crawl import EXIT_USAGE, settings_refused


def rebuild_posts(db: ArchiveDatabase, root: Path, site_url: str) -> tuple[int, int]:
    """Write the post and category page of every archived article; returns
    (posts written, posts already identical)."""
    jekyll.ensure_site(root)
    writer = jekyll.SiteWriter(root, site_url)
    written = same = 0
    for row in db.iter_articles():
        row["published_at"] = datetime.fromisoformat(row["published_at"])
        if writer.write(row):
            written += 1
        else:
            same += 1
    return written, same


class Command(ScrapyCommand):
    requires_project = True

    def short_desc(self):
        return "Rebuild the Jekyll posts from the SQLite archive (no network)"

    def run(self, args, opts):
        if settings_refused(self.settings):  # every FINEWS_* setting checked (config.py)
            self.exitcode = EXIT_USAGE
            return
        settings = self.settings
        path = database_path(settings)
        if not path.exists():
            print(f"no archive at {path}: run a crawl first")
            self.exitcode = 1
            return
        db = ArchiveDatabase(path)
        try:
            written, same = rebuild_posts(db, Path(settings.get("FINEWS_DATA_DIR")), settings.get("FINEWS_SITE_URL"))
        finally:
            db.close()
        print(f"posts written: {written}, already up to date: {same}")
