"""``scrapy writer [--drain]``: on the archive machine, archive what the fleet's workers
queued in Redis (``FINEWS_REDIS_URL``; docs/fleet.md)."""

from __future__ import annotations

from scrapy.commands.crawl import Command as CrawlCommand
from scrapy.exceptions import UsageError

from ..config import FinewsConfig
from ..crawling import run_crawl, settings_refused
from ..run import ARCHIVE_LOCK, EXIT_USAGE
from ..spiders.writer import WriterSpider
from . import RUN_EXIT_STATUSES, Help


class Command(Help, CrawlCommand):
    requires_project = True
    description = (
        "Archive the articles the fleet's workers queued in Redis (FINEWS_REDIS_URL), through the usual "
        "pipelines, until stopped (SIGTERM, Ctrl-C: the articles taken are finished first); with --drain, "
        "until the queue is empty and no worker is running. It holds the archive's lock (as scrapy crawl "
        "finews) and ends like any run: a summary line, a crawls row and an exit status."
    )
    examples = (
        "scrapy writer -s FINEWS_REDIS_URL=redis://redis.internal:6379/0",
        "scrapy writer --drain -s FINEWS_REDIS_URL=redis://127.0.0.1:6379/0   # for cron and tests",
    )
    exit_statuses = RUN_EXIT_STATUSES

    def syntax(self):
        return "[--drain]"

    def short_desc(self):
        return "Archive the articles the fleet's workers queued in Redis (FINEWS_REDIS_URL)"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument(
            "--drain", action="store_true", help="exit once the queue is empty and no worker is running"
        )

    def run(self, args, opts):
        assert self.settings is not None and self.crawler_process is not None  # set by scrapy.cmdline
        if args:
            raise UsageError("scrapy writer takes no arguments")
        if settings_refused(self.settings):
            self.exitcode = EXIT_USAGE
            return
        if FinewsConfig.from_settings(self.settings).redis_url is None:
            raise UsageError("scrapy writer needs FINEWS_REDIS_URL (the Redis server of the fleet)")
        self.settings.set("FINEWS_LOCK_NAME", ARCHIVE_LOCK, priority="cmdline")
        self.settings.set("FINEWS_LOCK", True, priority="cmdline")
        crawler = self.crawler_process.create_crawler(WriterSpider)
        self.exitcode = run_crawl(self.crawler_process, crawler, {**opts.spargs, "drain": "1" if opts.drain else ""})
