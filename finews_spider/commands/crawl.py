"""``scrapy crawl`` whose exit status tells cron how the run went:

0 the run succeeded (also when nothing was new), 1 it failed (see the run summary),
2 usage error (including a spider argument that cannot be used), 75 another run of the
spider holds the lock.
"""

from __future__ import annotations

import logging

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from ..extensions.lock import EXIT_LOCKED, LockHeld
from ..spiders.base import SpiderArgumentError

EXIT_USAGE = 2

logger = logging.getLogger(__name__)


class Command(ScrapyCrawlCommand):
    def run(self, args, opts):
        if len(args) != 1:
            raise UsageError("give exactly one spider name (see 'scrapy list')")
        crawler = self._create_crawler(args[0])
        started = self.crawler_process.crawl(crawler, **opts.spargs)
        if hasattr(started, "add_done_callback"):  # asyncio Task (AsyncCrawlerProcess)
            started.add_done_callback(lambda task: self._bootstrap_failed(task, crawler))
        else:  # Deferred (CrawlerProcess)
            started.addErrback(self._bootstrap_failed, crawler)
        self.crawler_process.start()
        code = crawler.stats.get_value("finews/exit_code") if crawler.stats else None
        if code is not None:
            self.exitcode = code
        elif self.crawler_process.bootstrap_failed:
            self.exitcode = 1

    def _bootstrap_failed(self, outcome, crawler):
        if hasattr(outcome, "exception"):  # a finished asyncio Task
            error = None if outcome.cancelled() else outcome.exception()
        else:  # a twisted Failure
            error = outcome.value
        codes = {LockHeld: EXIT_LOCKED, SpiderArgumentError: EXIT_USAGE}
        for kind, code in codes.items():
            if isinstance(error, kind):
                logger.error("not started: %s", error)
                if crawler.stats:
                    crawler.stats.set_value("finews/exit_code", code)
                return None
        return outcome if not hasattr(outcome, "exception") else None
