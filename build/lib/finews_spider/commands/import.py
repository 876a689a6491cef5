"""``scrapy import PATH…``: record the posts of an existing Jekyll archive, fetching nothing
(:func:`finews_spider.api.import_posts`)."""

from __future__ import annotations

import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from .. import api
from ..config import FinewsConfig
from ..crawling import settings_refused
from ..exceptions import ArchiveUnusable, LockHeld
from ..run import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_USAGE
from . import Help


class Command(Help, ScrapyCommand):
    requires_project = True
    requires_crawler_process = False  # nothing is fetched: no engine
    description = (
        "Record the posts of an existing Jekyll archive (folders of posts such as the old site's _posts/, read "
        "with their subfolders, hidden files skipped; or single posts), fetching nothing. Regional articles "
        "become articles of the paper they name; digests and the site's init post are reported and skipped; "
        "broken posts are reported with the file and the reason. The files read are never changed; posts from "
        "outside the data folder are copied into it unchanged, or written in today's format with --rewrite. "
        "The summary goes to stdout and the crawls table (spider import), the skipped posts to stderr."
    )
    examples = (
        "scrapy import old-site/_posts old-site/old_post",
        "scrapy import data/_posts            # rebuild a lost database from the archive's own posts",
        "scrapy import old-site/_posts --rewrite --workers 1",
    )
    exit_statuses = (
        (EXIT_OK, "what could be imported was (also when everything was already archived)"),
        (EXIT_FAILED, "no file could be read as a post, or the archive cannot be used or written"),
        (EXIT_USAGE, "a usage error (no PATH, a PATH that does not exist, a setting that cannot be used)"),
        (EXIT_LOCKED, "another run holds the archive's lock (finews, as scrapy crawl finews)"),
    )

    def syntax(self):
        return "[options] PATH [PATH …]"

    def short_desc(self):
        return "Record the posts of an existing Jekyll archive (folders or files) in the archive, fetching nothing"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument(
            "--rewrite",
            action="store_true",
            help="write the posts found outside the data folder in today's format instead of copying them unchanged",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            metavar="N",
            help="processes reading the posts (default: one per core, at most 4; 1: none)",
        )

    def run(self, args, opts):
        if not args:
            raise UsageError("give the posts to import: folders (e.g. old-site/_posts) or files")
        if opts.workers < 0:
            raise UsageError("--workers takes 0 (one per core) or more")
        if settings_refused(self.settings):
            self.exitcode = EXIT_USAGE
            return
        try:
            report = api.import_posts(
                FinewsConfig.from_settings(self.settings),
                args,
                rewrite=opts.rewrite,
                workers=opts.workers,
                say=lambda line: print(line, file=sys.stderr),
            )
        except ValueError as exc:
            print(f"scrapy import: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        except (LockHeld, ArchiveUnusable) as exc:
            print(f"scrapy import: {exc}", file=sys.stderr)
            self.exitcode = EXIT_LOCKED if isinstance(exc, LockHeld) else EXIT_FAILED
            return
        if report.write_error is not None:
            print(
                f"scrapy import: the archive could not be written ({report.write_error}); nothing of the batch "
                "being written was recorded",
                file=sys.stderr,
            )
            self.exitcode = EXIT_FAILED
            return
        for line in report.lines():
            print(line)
        if report.status != "ok":
            print(f"scrapy import: nothing imported: {report.reason} in {', '.join(args)}", file=sys.stderr)
            self.exitcode = EXIT_FAILED
            return
        self.exitcode = EXIT_OK
