"""``scrapy rebuild``: write every post again from the SQLite archive, offline
(:func:`finews_spider.api.rebuild`)."""

from __future__ import annotations

from scrapy.commands import ScrapyCommand

from .. import api
from ..config import FinewsConfig
from ..crawling import settings_refused
from ..exceptions import ArchiveUnusable, LockHeld
from ..run import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_USAGE
from . import Help


class Command(Help, ScrapyCommand):
    requires_project = True
    description = (
        "Write every post, category page and Atom feed again from the SQLite archive, offline (after a change "
        "of the post format or FINEWS_SITE_URL, or when files were lost). Files already holding the same bytes "
        "are left alone. It holds the archive's lock (as scrapy crawl finews)."
    )
    examples = ("scrapy rebuild", "scrapy rebuild -s FINEWS_SITE_URL=https://example.org")
    exit_statuses = (
        (EXIT_OK, "every post was written or already up to date"),
        (EXIT_FAILED, "no archive, or it cannot be used"),
        (EXIT_USAGE, "a setting that cannot be used"),
        (EXIT_LOCKED, "another run holds the archive's lock"),
    )

    def short_desc(self):
        return "Rebuild the Jekyll posts from the SQLite archive (no network)"

    def run(self, args, opts):
        if settings_refused(self.settings):  # every FINEWS_* setting checked (config.py)
            self.exitcode = EXIT_USAGE
            return
        try:
            written, same = api.rebuild(FinewsConfig.from_settings(self.settings))
        except api.ArchiveMissing as exc:
            print(f"rebuild: {exc}")
            self.exitcode = EXIT_FAILED
            return
        except (ArchiveUnusable, LockHeld) as exc:
            print(f"rebuild: {exc}")
            self.exitcode = EXIT_LOCKED if isinstance(exc, LockHeld) else EXIT_FAILED
            return
        print(f"posts written: {written}, already up to date: {same}")
