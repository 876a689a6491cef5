"""``scrapy rebuild``: write every post again from the SQLite archive, offline."""

from __future__ import annotations

from scrapy.commands import ScrapyCommand

from ..archive import Archive, ArchiveSettings
from ..exceptions import ArchiveUnusable, LockHeld, SettingsError


class Command(ScrapyCommand):
    requires_project = True

    def short_desc(self):
        return "Rebuild the Jekyll posts from the SQLite archive (no network)"

    def run(self, args, opts):
        try:
            where = ArchiveSettings.from_settings(self.settings)
        except SettingsError as exc:
            print(f"rebuild: {exc}")
            self.exitcode = 2
            return
        if not where.db_path.exists():
            print(f"rebuild: no archive at {where.db_path}: run a crawl first")
            self.exitcode = 1
            return
        try:
            # The same lock as `scrapy crawl finews`: nobody else rewrites every post meanwhile.
            archive = Archive(ArchiveSettings(**{**where.__dict__, "exporters": frozenset({"jekyll", "sqlite"})}),
                              lock_name="finews")
        except (ArchiveUnusable, LockHeld) as exc:
            print(f"rebuild: {exc}")
            self.exitcode = 75 if isinstance(exc, LockHeld) else 1
            return
        try:
            written, same = archive.rebuild_posts()
        finally:
            archive.close()
        print(f"posts written: {written}, already up to date: {same}")
