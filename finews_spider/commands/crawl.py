"""``scrapy crawl`` whose exit status tells cron how the run went:

0 the run succeeded (also when nothing was new), 1 it failed (see the run summary),
2 usage error (an unknown spider, an unusable spider argument or setting), 75 another
run of the spider holds the lock.
"""

from __future__ import annotations

import logging
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from ..config import FinewsConfig, install_config
from ..exceptions import LockHeld, SettingsError, SpiderArgumentError
from ..extensions.lock import EXIT_LOCKED

logger = logging.getLogger(__name__)

EXIT_FAILED, EXIT_USAGE = 1, 2
# Errors that stop a run before it starts, and the exit status each one gives.
NOT_STARTED = {LockHeld: EXIT_LOCKED, SpiderArgumentError: EXIT_USAGE, SettingsError: EXIT_USAGE}


def settings_refused(settings) -> SettingsError | None:
    """Check every ``FINEWS_*`` setting (:class:`FinewsConfig`) before anything starts;
    the error, after reporting it in one line (the log, and stderr when the log goes to a
    file), or ``None`` when the settings are usable."""
    try:
        FinewsConfig.from_settings(settings)
    except SettingsError as exc:
        logger.error("not started: %s", exc)
        if settings.get("LOG_FILE"):
            print(f"not started: {exc}", file=sys.stderr)
        return exc
    return None


def run_crawl(process, crawler, spargs: dict) -> int:
    """Run ``crawler`` in ``process`` to the end; the exit status of the run. Settings
    that cannot be used stop it before anything starts (exit 2, see :func:`settings_refused`)."""
    if settings_refused(crawler.settings):  # the project's, the command line's and the spider's
        return EXIT_USAGE
    install_config(crawler, process.settings)
    not_started: list[int] = []

    def check_start(outcome):
        if hasattr(outcome, "exception"):  # a finished asyncio Task (AsyncCrawlerProcess)
            error = None if outcome.cancelled() else outcome.exception()
        else:  # a twisted Failure (CrawlerProcess)
            error = outcome.value
        if error is None:
            return None
        code = next((code for kind, code in NOT_STARTED.items() if isinstance(error, kind)), None)
        if code is not None:
            logger.error("not started: %s", error)  # an expected reason: no traceback
        else:
            logger.error("the crawl could not start: %s", error, exc_info=error)
        not_started.append(code or EXIT_FAILED)
        return None

    started = process.crawl(crawler, **spargs)
    if hasattr(started, "add_done_callback"):
        started.add_done_callback(check_start)
    else:
        started.addErrback(check_start)
    process.start()
    if not_started:
        return not_started[0]
    try:
        code = crawler.stats.get_value("finews/exit_code")  # decided by the run summary
    except RuntimeError:  # Crawler.stats is not set: the crawl never started
        code = None
    if code is None:
        return EXIT_FAILED if process.bootstrap_failed else 0
    return code


class Command(ScrapyCrawlCommand):
    def run(self, args, opts):
        if len(args) != 1:
            raise UsageError("give exactly one spider name (see 'scrapy list')")
        try:
            crawler = self._create_crawler(args[0])
        except KeyError:
            raise UsageError(f"no spider named {args[0]!r} (see 'scrapy list')") from None
        self.exitcode = run_crawl(self.crawler_process, crawler, opts.spargs)
