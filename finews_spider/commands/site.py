"""``scrapy site DIR``: build the reading site from the archive, or bring it up to date
(:func:`finews_spider.api.build_site`)."""

from __future__ import annotations

import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from .. import api
from ..config import FinewsConfig
from ..crawling import settings_refused
from ..exceptions import ArchiveDamaged, OutputRefused
from ..run import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from ..site.builder import ForeignFile, SiteError
from . import Help


class Command(Help, ScrapyCommand):
    requires_project = True
    requires_crawler_process = False  # no crawl: no engine, no startup log
    description = (
        "Build the reading site (static HTML) from the archive into DIR (default FINEWS_SITE_DIR), or bring it "
        "up to date: every page is rendered and only the files whose bytes changed are written, so it is both "
        "the first build and the update after any change (pages that no longer exist are removed). "
        "--changed-since renders only what the articles seen since then touch: faster on a large archive, but "
        "it cannot see an article that moved to another date."
    )
    examples = (
        "scrapy site site/                                  # build, then serve site/ with any web server",
        "scrapy site site/ --site-url https://example.org/archive",
        "scrapy site site/ --changed-since 2021-12-24T00:00:00",
    )
    exit_statuses = (
        (EXIT_OK, "the site was built or updated"),
        (EXIT_FAILED, "no readable archive, or the site could not be written"),
        (
            EXIT_USAGE,
            "a usage error (no DIR and no FINEWS_SITE_DIR, a setting that cannot be used), DIR refused (/, the "
            "home folder, the archive's own), or a file in DIR that scrapy site did not write would be "
            "overwritten or removed",
        ),
    )

    def syntax(self):
        return "[options] [DIR, default FINEWS_SITE_DIR]"

    def short_desc(self):
        return "Build or update the reading site (static HTML) from the SQLite archive"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--site-url", help="prefix of every link (default: what the site was built with, else /)")
        parser.add_argument(
            "--changed-since",
            metavar="TIME",
            help="only the pages of articles seen since TIME (ISO, UTC, as last_seen_at)",
        )

    def run(self, args, opts):
        if len(args) > 1:
            raise UsageError("give one output directory")
        if settings_refused(self.settings):
            self.exitcode = EXIT_USAGE
            return
        config = FinewsConfig.from_settings(self.settings)
        out = args[0] if args else config.site_dir
        try:
            stats = api.build_site(config, out, site_url=opts.site_url, changed_since=opts.changed_since)
        except (OutputRefused, ForeignFile) as exc:
            print(f"scrapy site: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        except (api.ArchiveMissing, ArchiveDamaged, SiteError) as exc:
            print(f"scrapy site: {exc}", file=sys.stderr)
            self.exitcode = EXIT_FAILED
            return
        except OSError as exc:
            print(f"scrapy site: cannot write the site to {out}: {exc.strerror or exc}", file=sys.stderr)
            self.exitcode = EXIT_FAILED
            return
        print(
            f"site {out}: {stats['articles']} articles, {stats['written']} files written, "
            f"{stats['unchanged']} unchanged, {stats['removed']} removed, {stats['redirects']} redirects, "
            f"{stats['seconds']:.1f}s"
        )
