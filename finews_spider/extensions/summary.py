"""The end of every run: one verdict, given as a summary line, a ``crawls`` row and the
exit status, which therefore always agree.

The verdict (:func:`judge`) is decided from two things no failure can bypass:

- **accounting**: every article the run set out to archive (listed and not skipped, or
  asked for by share URL) must end as new, changed, unchanged, dropped for a stated
  reason, or failed; failures above ``FINEWS_MAX_ERROR_RATIO`` (default 0: none) fail the
  run, and articles that vanished without an outcome fail it too;
- **the error tally**: every log record of level ERROR or above during the run that is
  not already one of the counted failures (an exception in a spider callback, a
  middleware, a pipeline, an extension, a signal handler: Scrapy logs them all at ERROR)
  fails the run. Code that logs a failure it has counted in the stats marks the record
  with ``extra=COUNTED``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

from scrapy import signals

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED = 0, 1
EXIT_INTERRUPTED = 130  # forced shutdown (a second Ctrl-C): the run did not end cleanly

#: ``logger.error(..., extra=COUNTED)``: this failure is counted in the stats (and so
#: judged there); the error tally does not count it again.
COUNTED = {"finews_counted": True}


def run_figures(stats: dict) -> dict:
    """The figures of a run, from its Scrapy stats."""
    get = lambda key: stats.get(key, 0) or 0  # noqa: E731
    return {
        "articles_new": get("finews/articles_new"),
        "articles_changed": get("finews/articles_changed"),
        "articles_unchanged": get("finews/articles_unchanged"),
        "articles_skipped": get("finews/articles_skipped"),
        "articles_dropped": get("finews/articles_dropped"),
        "requests": get("downloader/request_count"),
        "retries": get("retry/count"),
        "errors": get("finews/errors") + get("finews/unexpected_errors"),
    }


_SUMMARY = re.compile(r"run summary: spider=\S+ (?:workers=\d+ )?status=(\w+) (?P<figures>.*?) duration=")


def summary_line(name: str, status: str, figures: dict, duration: float, extra: str = "") -> str:
    """The one line that ends every run (read back by :func:`parse_summary`)."""
    return (
        f"run summary: spider={name} status={status} "
        + " ".join(f"{k.replace('articles_', '')}={v}" for k, v in figures.items())
        + f" duration={duration}s"
        + (f" {extra}" if extra else "")
    )


def parse_summary(line: str) -> dict | None:
    """The figures of a summary line, keyed as :func:`run_figures` keys them."""
    match = _SUMMARY.search(line)
    if match is None:
        return None
    short = {k: int(v) for k, v in (pair.split("=") for pair in match["figures"].split())}
    return {key: short[key.replace("articles_", "")] for key in run_figures({})}


def judge(
    stats: dict, finish_reason: str, *, max_error_ratio: float = 0.0, shared_frontier: bool = False
) -> tuple[str, str]:
    """``("ok" | "failed", why)`` for a finished run. Pure, so each rule is testable.

    ``shared_frontier``: a worker of a fleet (``FINEWS_REDIS_URL``), whose listed articles
    may be fetched by other workers: its own outcomes (``finews/articles_queued`` for the
    writer, or failed) are judged, not the articles it listed; one left without an
    outcome is not archived, so the next run lists it again."""
    get = lambda key: stats.get(key, 0) or 0  # noqa: E731
    if finish_reason != "finished":
        return "failed", f"run ended early: {finish_reason}"
    if get("finews/unexpected_errors"):
        first = stats.get("finews/first_unexpected_error", "")
        return "failed", f"{get('finews/unexpected_errors')} unexpected error(s), the first: {first}"
    if get("finews/articles_failed"):
        return "failed", f"{get('finews/articles_failed')} article(s) could not be recorded in the archive"
    requested = get("finews/feeds_requested")
    if requested and not get("finews/feeds_ok"):
        return "failed", "no feed could be read: upstream unreachable or every feed invalid"
    unread = get("finews/feeds_failed") + get("finews/feeds_invalid")
    if unread:  # its articles are unknown, so none of them can be said to be archived
        return "failed", f"{unread} of {requested} feed(s) could not be read"
    if requested and not get("finews/feeds_nonempty"):
        return "failed", "every feed was empty"
    # A feed record without an infoCode (or not an object) is an article that cannot be archived.
    unreadable = get("finews/feed_records_invalid")
    attempted = (
        get("finews/articles_listed") - get("finews/articles_skipped") + get("finews/articles_requested") + unreadable
    )
    failed = get("finews/text_failed") + get("finews/text_invalid") + unreadable
    outcomes = (
        get("finews/articles_new")
        + get("finews/articles_changed")
        + get("finews/articles_unchanged")
        + get("finews/articles_dropped")
        + get("finews/articles_outside_window")
        + failed
        + get("finews/articles_queued")
    )
    if shared_frontier:
        attempted = outcomes
    if outcomes < attempted:
        return "failed", f"{attempted - outcomes} of {attempted} article(s) ended without an outcome"
    invalid = get("finews/share_url_invalid")
    if invalid:
        return "failed", f"{invalid} share URL(s) could not be used"
    if attempted and failed / attempted > max_error_ratio:
        return "failed", f"{failed} of {attempted} articles failed (FINEWS_MAX_ERROR_RATIO={max_error_ratio})"
    return "ok", ""


def keep_the_verdict() -> None:
    """Once a run's verdict is given (summary line, ``crawls`` row), a Ctrl-C or SIGTERM
    arriving while the process exits must not change the exit status cron sees: ignore
    them from now on (in the main thread, the only one that may set signal handlers)."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)


class ErrorTally(logging.Handler):
    """Counts the log records of level ERROR and above that no stat counts already."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "finews_counted", False):
            return
        self.count += 1
        if self.first is None:
            try:
                message = record.getMessage()
            except Exception:  # a record whose arguments do not format
                message = str(record.msg)
            self.first = message.splitlines()[0][:300] if message else record.name


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
            return stats.get_value("finews/exit_code")
        self.done = True
        logging.getLogger().removeHandler(self.tally)
        if self.tally.count:
            stats.set_value("finews/unexpected_errors", self.tally.count)
            stats.set_value("finews/first_unexpected_error", self.tally.first)
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
        stats.set_value("finews/exit_code", code)
        stats.set_value("finews/status", status)
        spider = getattr(self.crawler, "spider", None)
        name = getattr(spider, "name", None) or getattr(self.crawler.spidercls, "name", None) or "finews"
        extra = f"queued={values['finews/articles_queued']}" if values.get("finews/articles_queued") else ""
        if why:
            extra = f"{extra} reason={why!r}".strip()
        line = summary_line(name, status, figures, duration, extra)
        (logger.info if status == "ok" else logger.error)(line, extra=COUNTED)
        if config is not None and config.run_report is not None:
            self.report(config.run_report, finish_reason)
        if config is None or config.record_crawl:
            self.record(name, status, why or finish_reason, figures, duration, finished)
        return code

    def _config(self):
        from ..config import config_for

        try:
            return config_for(self.crawler)
        except Exception:  # unusable settings: the run did not start, and says so
            return None

    def report(self, path: Path, finish_reason: str) -> None:
        """The run's stats as JSON, for the command that started this run as a worker."""
        values = {k: v for k, v in self.crawler.stats.get_stats().items() if isinstance(v, (int, float, str))}
        values["finish_reason"] = finish_reason
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(values, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)

    def record(self, name, status, why, figures, duration, finished) -> None:
        from ..archive import Archive

        archive = self.crawler.get_extension(Archive) if getattr(self.crawler, "extensions", None) else None
        row = {
            "spider": name,
            "started_at": self.started.isoformat(timespec="seconds"),
            "finished_at": finished.isoformat(timespec="seconds"),
            "status": status,
            "reason": why,
            **figures,
            "duration_seconds": duration,
        }
        try:
            if archive is not None and archive.db is not None:
                archive.record_crawl(row)
        except Exception as exc:  # the verdict stands; the row is what could not be kept
            logger.error("the crawls row of this run could not be written (%s)", exc, extra=COUNTED)
