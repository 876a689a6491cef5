"""``scrapy rebuild``: write every post again from the SQLite archive, offline."""

from __future__ import annotations

from dataclasses import replace

from scrapy.commands import ScrapyCommand

from ..archive import Archive
from ..config import FinewsConfig
from ..exceptions import ArchiveUnusable, LockHeld
from ..run import ARCHIVE_LOCK, EXIT_FAILED, EXIT_LOCKED, EXIT_USAGE
from .crawl import settings_refused


class Command(ScrapyCommand):
    requires_project = True

    def short_desc(self):
        return "Rebuild the Jekyll posts from the SQLite archive (no network)"

    def run(self, args, opts):
        if settings_refused(self.settings):  # every FINEWS_* setting checked (config.py)
            self.exitcode = EXIT_USAGE
            return
        where = FinewsConfig.from_settings(self.settings)
        if not where.database_path.exists():
            print(f"rebuild: no archive at {where.database_path}: run a crawl first")
            self.exitcode = 1
            return
        try:
            # The same lock as `scrapy crawl finews`: nobody else rewrites every post meanwhile.
            archive = Archive(replace(where, exporters=frozenset({"jekyll", "sqlite"})), lock_name=ARCHIVE_LOCK)
        except (ArchiveUnusable, LockHeld) as exc:
            print(f"rebuild: {exc}")
            self.exitcode = EXIT_LOCKED if isinstance(exc, LockHeld) else EXIT_FAILED
            return
        try:
            written, same = archive.rebuild()
        finally:
            archive.close()
        print(f"posts written: {written}, already up to date: {same}")
