"""``scrapy reextract [WARC file or folder]``: run cleaning and export again over every
captured article, without fetching anything."""

from __future__ import annotations

import logging

from scrapy.commands.crawl import Command as CrawlCommand
from scrapy.exceptions import UsageError

from ..spiders.reextract import ReextractSpider

logger = logging.getLogger(__name__)


class Command(CrawlCommand):
    requires_project = True

    def syntax(self):
        return "[options] [WARC file or folder, default <FINEWS_DATA_DIR>/warc]"

    def short_desc(self):
        return "Re-extract every captured article from WARC files (no network)"

    def run(self, args, opts):
        if len(args) > 1:
            raise UsageError("give at most one WARC file or folder")
        spargs = dict(opts.spargs)
        if args:
            spargs["warc"] = args[0]
        crawler = self.crawler_process.create_crawler(ReextractSpider)
        self.crawler_process.crawl(crawler, **spargs)
        self.crawler_process.start()
        code = crawler.stats.get_value("finews/exit_code") if crawler.stats else None
        self.exitcode = code if code is not None else int(bool(self.crawler_process.bootstrap_failed))
