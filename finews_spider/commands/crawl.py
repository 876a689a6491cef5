"""``scrapy crawl`` whose exit status tells cron how the run went:

0 the run succeeded (also when nothing was new), 1 it failed (see the run summary),
2 usage error (an unknown spider, an unusable spider argument or setting), 75 another
run of the spider holds the lock, 130 the run was forced to stop (a second Ctrl-C).
Every one of them ends with a ``run summary`` line, and a ``crawls`` row wherever the
database is usable.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from ..archive import Archive
from ..config import FinewsConfig, install_config, project_config
from ..exceptions import ArchiveUnusable, FleetUnreachable, LockHeld, SettingsError, SpiderArgumentError
from ..extensions.archive import ArchiveExtension
from ..extensions.summary import RunSummary
from ..run import (
    COUNTED,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_USAGE,
    crawls_row,
    keep_the_verdict,
    run_figures,
    summary_line,
)

logger = logging.getLogger(__name__)

# Errors that stop a run before it starts: the exit status and the status word of each.
NOT_STARTED = {
    LockHeld: (EXIT_LOCKED, "locked"),
    SpiderArgumentError: (EXIT_USAGE, "usage"),
    SettingsError: (EXIT_USAGE, "usage"),
    ArchiveUnusable: (EXIT_FAILED, "failed"),
    FleetUnreachable: (EXIT_FAILED, "failed"),
}


def settings_refused(settings) -> SettingsError | None:
    """Check every ``FINEWS_*`` setting (:class:`FinewsConfig`) before anything starts;
    the error, after reporting it in one line (the log, and stderr when the log goes to a
    file), or ``None`` when the settings are usable. For the commands that do not crawl."""
    try:
        FinewsConfig.from_settings(settings)
    except SettingsError as exc:
        _say_not_started(settings, exc)
        return exc
    return None


def _say_not_started(settings, error: BaseException) -> None:
    logger.error("not started: %s", error, extra=COUNTED)
    if settings.get("LOG_FILE"):
        print(f"not started: {error}", file=sys.stderr)


def run_crawl(process, crawler, spargs: dict) -> int:
    """Run ``crawler`` in ``process`` to the end; the exit status of the run. Settings
    that cannot be used stop it before anything starts (exit 2)."""
    started_at = datetime.now(UTC)
    try:
        install_config(crawler, process.settings)  # the project's, the command line's and the spider's
    except SettingsError as exc:
        return _not_started(crawler, exc, started_at)
    errors: list[BaseException] = []

    def check_start(outcome):
        if hasattr(outcome, "exception"):  # a finished asyncio Task (AsyncCrawlerProcess)
            error = None if outcome.cancelled() else outcome.exception()
        else:  # a twisted Failure (CrawlerProcess)
            error = outcome.value
        if error is not None:
            errors.append(error)
        return None

    started = process.crawl(crawler, **spargs)
    if hasattr(started, "add_done_callback"):
        started.add_done_callback(check_start)
    else:
        started.addErrback(check_start)
    process.start()
    summary = _extension(crawler, RunSummary)
    if summary is not None and summary.done:
        return crawler.stats.get_value("finews/exit_code")
    if errors:
        return _not_started(crawler, errors[0], started_at)
    # The engine never stopped cleanly: a forced shutdown (second Ctrl-C).
    logger.error(
        "the run was forced to stop before it ended: what was recorded stays, the rest is fetched again next run",
        extra=COUNTED,
    )
    archive = _extension(crawler, ArchiveExtension)
    if archive is not None:
        archive.stop_writer()  # the batch being written ends first; a thread left running would keep the process alive
    try:
        if summary is not None:
            return summary.conclude("forced shutdown", exit_code=EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    finally:
        if archive is not None:
            archive.close()  # the lock is released: the next run starts without a stale-lock warning


def _extension(crawler, cls):
    try:
        return crawler.get_extension(cls)
    except (RuntimeError, AttributeError):  # extensions never built
        return None


def _not_started(crawler, error: BaseException, started_at: datetime) -> int:
    """A run that could not start: release what it took, say why in one line (a
    traceback only for the unexpected), and still end with a summary line and, where
    the database is usable, a ``crawls`` row."""
    code, status = next((v for kind, v in NOT_STARTED.items() if isinstance(error, kind)), (EXIT_FAILED, "failed"))
    if code == EXIT_FAILED and status == "failed" and not isinstance(error, (ArchiveUnusable, FleetUnreachable)):
        logger.error("the crawl could not start: %s", error, exc_info=error, extra=COUNTED)
    else:
        _say_not_started(crawler.settings, error)
    archive = _extension(crawler, ArchiveExtension)
    if archive is not None:
        archive.close()
    name = getattr(crawler.spidercls, "name", None) or "finews"
    finished = datetime.now(UTC)
    duration = round((finished - started_at).total_seconds(), 3)
    figures = run_figures({})
    reason = f"not started: {error}"
    keep_the_verdict()
    logger.error(summary_line(name, status, figures, duration, f"reason={reason!r}"), extra=COUNTED)
    # A locked run is no failure (another run is doing the work): no crawls row, or cron
    # would add one every few minutes while a long run holds the lock.
    if not isinstance(error, (ArchiveUnusable, LockHeld)):
        _record_unstarted(crawler.settings, crawls_row(name, status, reason, figures, started_at, finished, duration))
    return code


def _record_unstarted(settings, row: dict) -> None:
    """The ``crawls`` row of a run that did not start, if the archive's database exists
    and opens (never creating one, never taking the run lock)."""
    try:
        where = FinewsConfig.from_settings(settings)
    except Exception:  # the unusable setting may be one the archive needs: use the defaults for the rest
        where = project_config(
            data_dir=Path(str(settings.get("FINEWS_DATA_DIR") or "data")),
            db_name=str(settings.get("FINEWS_DB_NAME") or "finews.db"),
        )
    if not where.database_path.is_file():
        return
    try:
        archive = Archive(replace(where, exporters=frozenset({"sqlite"}), sinks={}))
        try:
            archive.record_crawl(row)
        finally:
            archive.close()
    except Exception as exc:
        logger.warning("the crawls row of this run could not be written: %s", exc)


def become_fleet_worker(settings) -> bool:
    """With ``FINEWS_REDIS_URL`` set, make this crawl a worker of the fleet (README "Many
    machines"): the settings of ``distributed.worker_settings``. Unusable settings are
    left for :func:`run_crawl` to report."""
    try:
        config = FinewsConfig.from_settings(settings)
    except SettingsError:
        return False
    if config.redis_url is None:
        return False
    from ..distributed import worker_settings

    for name, value in worker_settings(settings).items():
        settings.set(name, value, priority="cmdline")
    return True


class Command(ScrapyCrawlCommand):
    def run(self, args, opts):
        if len(args) != 1:
            raise UsageError("give exactly one spider name (see 'scrapy list')")
        become_fleet_worker(self.crawler_process.settings)
        try:
            crawler = self._create_crawler(args[0])
        except KeyError:
            raise UsageError(f"no spider named {args[0]!r} (see 'scrapy list')") from None
        self.exitcode = run_crawl(self.crawler_process, crawler, opts.spargs)
