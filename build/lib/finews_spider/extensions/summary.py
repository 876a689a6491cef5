"""The end of every run: one verdict, given as a summary line, a ``crawls`` row and the
exit status, which therefore always agree (the rules: :func:`finews_spider.run.judge`).

The error tally (:class:`~finews_spider.run.ErrorTally`) counts every log record of level
ERROR or above during the run that is not already one of the counted failures (an
exception in a spider callback, a middleware, a pipeline, an extension, a signal handler:
Scrapy logs them all at ERROR); code that logs a failure it has counted in the stats
marks the record with ``extra=COUNTED``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from scrapy import signals

from ..config import FinewsConfig, config_for
from ..files import write_atomic
from ..run import (
    COUNTED,
    EXIT_FAILED,
    EXIT_OK,
    ErrorTally,
    Stat,
    crawls_row,
    judge,
    keep_the_verdict,
    run_figures,
    summary_line,
)
from .archive import ArchiveExtension

logger = logging.getLogger(__name__)


class RunSummary:
    """Gives the run's verdict once the engine has stopped (after every pipeline,
    extension and ``spider_closed`` handler has run): logs ``run summary: ...``, records
    it in the ``crawls`` table (through the archive) and sets ``finews/exit_code``, the
    exit status of ``scrapy crawl``. Listed first in ``EXTENSIONS``, so it sees the run
    from before the archive opens."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.started = datetime.now(UTC)
        self.tally = ErrorTally()
        self.finish_reason: str | None = None
        self.done = False
        logging.getLogger().addHandler(self.tally)

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def spider_closed(self, spider, reason):
        self.finish_reason = reason

    def engine_stopped(self):
        self.conclude(self.finish_reason or "engine stopped before the spider closed")

    def conclude(self, finish_reason: str, *, exit_code: int | None = None) -> int:
        """Judge the run, log its summary line, record its ``crawls`` row; returns the
        exit status. Called once (later calls return the first verdict)."""
        stats = self.crawler.stats
        if self.done:
            return stats.get_value(Stat.EXIT_CODE)
        self.done = True
        logging.getLogger().removeHandler(self.tally)
        if self.tally.count:
            stats.set_value(Stat.UNEXPECTED_ERRORS, self.tally.count)
            stats.set_value(Stat.FIRST_UNEXPECTED_ERROR, self.tally.first)
        values = stats.get_stats()
        config = self._config()
        ratio = config.max_error_ratio if config else 0.0
        status, why = judge(
            values, finish_reason, max_error_ratio=ratio, shared_frontier=bool(config and config.fleet_worker)
        )
        code = exit_code if exit_code is not None else (EXIT_OK if status == "ok" else EXIT_FAILED)
        finished = datetime.now(UTC)
        figures = run_figures(values)
        duration = round((finished - self.started).total_seconds(), 3)
        keep_the_verdict()
        stats.set_value(Stat.EXIT_CODE, code)
        stats.set_value(Stat.STATUS, status)
        spider = getattr(self.crawler, "spider", None)
        name = getattr(spider, "name", None) or getattr(self.crawler.spidercls, "name", None) or "finews"
        extra = f"queued={values[Stat.ARTICLES_QUEUED]}" if values.get(Stat.ARTICLES_QUEUED) else ""
        if why:
            extra = f"{extra} reason={why!r}".strip()
        line = summary_line(name, status, figures, duration, extra)
        (logger.info if status == "ok" else logger.error)(line, extra=COUNTED)
        if config is not None and config.run_report is not None:
            self.report(config.run_report, finish_reason)
        if config is None or config.record_crawl:
            self.record(crawls_row(name, status, why or finish_reason, figures, self.started, finished, duration))
        return code

    def _config(self) -> FinewsConfig | None:
        try:
            return config_for(self.crawler)
        except Exception:  # unusable settings: the run did not start, and says so
            return None

    def report(self, path: Path, finish_reason: str) -> None:
        """The run's stats as JSON, for the command that started this run as a worker."""
        values = {k: v for k, v in self.crawler.stats.get_stats().items() if isinstance(v, (int, float, str))}
        values["finish_reason"] = finish_reason
        write_atomic(path, json.dumps(values, ensure_ascii=False), fsync=False)

    def record(self, row: dict) -> None:
        """Record the ``crawls`` row through the archive, where it has a database."""
        archive = self.crawler.get_extension(ArchiveExtension) if getattr(self.crawler, "extensions", None) else None
        try:
            if archive is not None:
                archive.record_crawl(row)
        except Exception as exc:  # the verdict stands; the row is what could not be kept
            logger.error("the crawls row of this run could not be written (%s)", exc, extra=COUNTED)
