"""The run protocol: what every command promises cron, in one place.

- **Exit statuses** (:data:`EXIT_OK` … :data:`EXIT_INTERRUPTED`): the same for every command.
- **Stat names** (:class:`Stat`): the Scrapy stats a run counts and the verdict reads.
- **The verdict** (:func:`judge`), the **summary line** (:func:`summary_line`) and the
  **``crawls`` row** (:func:`crawls_row`) of a run, which therefore always agree.
- **The archive's lock name** (:data:`ARCHIVE_LOCK`), held by every command that writes
  every paper.
- :data:`COUNTED`: the mark of a log record whose failure a stat counts already.

Pure Python, no Scrapy: the read-side commands use it too.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from collections.abc import Mapping
from datetime import datetime

EXIT_OK = 0
EXIT_FAILED = 1  # the run failed (its summary line says why)
EXIT_USAGE = 2  # a setting, argument or option that cannot be used; nothing was done
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later
EXIT_INTERRUPTED = 130  # forced shutdown (a second Ctrl-C): the run did not end cleanly

#: What each exit status means, for help texts and the command reference.
EXIT_MEANINGS = {
    EXIT_OK: "ok",
    EXIT_FAILED: "failed",
    EXIT_USAGE: "usage error",
    EXIT_LOCKED: "another run holds the lock (try later)",
    EXIT_INTERRUPTED: "forced to stop (a second Ctrl-C)",
}

#: The lock of every command that writes every paper (``crawl finews``, ``import``,
#: ``reextract``, ``rebuild``, ``writer``): one of them at a time on a data folder.
ARCHIVE_LOCK = "finews"

#: ``logger.error(..., extra=COUNTED)``: this failure is counted in the stats (and so
#: judged there); the error tally does not count it again.
COUNTED = {"finews_counted": True}


class Stat:
    """The names of the stats a run counts (``crawler.stats``); the verdict reads them."""

    FEEDS_REQUESTED = "finews/feeds_requested"
    FEEDS_OK = "finews/feeds_ok"
    FEEDS_FAILED = "finews/feeds_failed"
    FEEDS_INVALID = "finews/feeds_invalid"
    FEEDS_NONEMPTY = "finews/feeds_nonempty"
    FEEDS_CACHED = "finews/feeds_cached"
    FEEDS_STORED = "finews/feeds_stored"
    FEED_RECORDS = "finews/feed_records"
    FEED_RECORDS_INVALID = "finews/feed_records_invalid"
    FEED_RECORDS_REPEATED = "finews/feed_records_repeated"
    LOOKUP_FEEDS_REQUESTED = "finews/lookup_feeds_requested"
    ARTICLES_LISTED = "finews/articles_listed"
    ARTICLES_REQUESTED = "finews/articles_requested"
    ARTICLES_SKIPPED = "finews/articles_skipped"
    ARTICLES_NEW = "finews/articles_new"
    ARTICLES_CHANGED = "finews/articles_changed"
    ARTICLES_UNCHANGED = "finews/articles_unchanged"
    ARTICLES_DROPPED = "finews/articles_dropped"
    ARTICLES_FAILED = "finews/articles_failed"
    ARTICLES_QUEUED = "finews/articles_queued"
    ARTICLES_OUTSIDE_WINDOW = "finews/articles_outside_window"
    RECORDS_OUTSIDE_WINDOW = "finews/records_outside_window"
    TEXT_FAILED = "finews/text_failed"
    TEXT_INVALID = "finews/text_invalid"
    SHARE_URL_INVALID = "finews/share_url_invalid"
    DESCRIBED_BY_ARCHIVE = "finews/described_by_archive"
    DESCRIBED_BY_FEED = "finews/described_by_feed"
    ERRORS = "finews/errors"
    UNEXPECTED_ERRORS = "finews/unexpected_errors"
    FIRST_UNEXPECTED_ERROR = "finews/first_unexpected_error"
    EXIT_CODE = "finews/exit_code"
    STATUS = "finews/status"
    WARC_RECORDS = "finews/warc_records"
    REPLAY_HITS = "finews/replay_hits"
    REPLAY_MISSING = "finews/replay_missing"
    WARC_DAMAGED = "finews/warc_damaged"
    WRITER_RECOVERED = "finews/writer_recovered"
    FLEET_WAITS = "finews/fleet/waits"

    #: ``finews/dropped/<reason>``: articles dropped for that reason (with ARTICLES_DROPPED).
    DROPPED_PREFIX = "finews/dropped/"
    #: ``finews/refetch/<reason>``: archived articles fetched again, and why.
    REFETCH_PREFIX = "finews/refetch/"

    #: The stat of each status the archive gives an article it recorded.
    BY_STATUS = {"new": ARTICLES_NEW, "changed": ARTICLES_CHANGED, "unchanged": ARTICLES_UNCHANGED}


def dropped_stat(reason: str) -> str:
    """``finews/dropped/<reason>``, the count of the articles dropped for ``reason``."""
    return Stat.DROPPED_PREFIX + reason


def refetch_stat(reason: str) -> str:
    """``finews/refetch/<reason>`` (spaces as ``_``), the count of archived articles fetched again."""
    return Stat.REFETCH_PREFIX + reason.replace(" ", "_")


def _get(stats: Mapping, key: str) -> int:
    return stats.get(key, 0) or 0


def run_figures(stats: Mapping) -> dict:
    """The figures of a run (the summary line's and the ``crawls`` row's), from its stats."""
    return {
        "articles_new": _get(stats, Stat.ARTICLES_NEW),
        "articles_changed": _get(stats, Stat.ARTICLES_CHANGED),
        "articles_unchanged": _get(stats, Stat.ARTICLES_UNCHANGED),
        "articles_skipped": _get(stats, Stat.ARTICLES_SKIPPED),
        "articles_dropped": _get(stats, Stat.ARTICLES_DROPPED),
        "requests": _get(stats, "downloader/request_count"),
        "retries": _get(stats, "retry/count"),
        "errors": _get(stats, Stat.ERRORS) + _get(stats, Stat.UNEXPECTED_ERRORS),
    }


_SUMMARY = re.compile(r"run summary: spider=\S+ (?:workers=\d+ )?status=(\w+) (?P<figures>.*?) duration=")


def summary_line(name: str, status: str, figures: Mapping, duration: float, extra: str = "") -> str:
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


def crawls_row(
    spider: str,
    status: str,
    reason: str | None,
    figures: Mapping,
    started_at: datetime,
    finished_at: datetime,
    duration: float | None = None,
) -> dict:
    """The ``crawls`` row of a run: the one shape every command records (``spider`` is
    the spider's or the command's name, ``import``, ``reextract``…). ``duration`` in
    seconds defaults to the time between the two moments."""
    if duration is None:
        duration = round((finished_at - started_at).total_seconds(), 3)
    return {
        "spider": spider,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "status": status,
        "reason": reason,
        **{key: figures.get(key, 0) for key in run_figures({})},
        "duration_seconds": duration,
    }


def judge(
    stats: Mapping, finish_reason: str, *, max_error_ratio: float = 0.0, shared_frontier: bool = False
) -> tuple[str, str]:
    """``("ok" | "failed", why)`` for a finished run. Pure, so each rule is testable.

    - **accounting**: every article the run set out to archive (listed and not skipped, or
      asked for by share URL) must end as new, changed, unchanged, dropped for a stated
      reason, or failed; failures above ``max_error_ratio`` fail the run, and articles that
      vanished without an outcome fail it too;
    - **the error tally**: ``finews/unexpected_errors`` (log records of level ERROR that no
      stat counts) fails the run.

    ``shared_frontier``: a worker of a fleet (``FINEWS_REDIS_URL``), whose listed articles
    may be fetched by other workers: its own outcomes (``finews/articles_queued`` for the
    writer, or failed) are judged, not the articles it listed; one left without an
    outcome is not archived, so the next run lists it again."""

    def get(key: str) -> int:
        return _get(stats, key)

    if finish_reason != "finished":
        return "failed", f"run ended early: {finish_reason}"
    if get(Stat.UNEXPECTED_ERRORS):
        first = stats.get(Stat.FIRST_UNEXPECTED_ERROR, "")
        return "failed", f"{get(Stat.UNEXPECTED_ERRORS)} unexpected error(s), the first: {first}"
    if get(Stat.WARC_DAMAGED):
        return "failed", f"{get(Stat.WARC_DAMAGED)} damaged WARC record(s) could not be replayed"
    if get(Stat.ARTICLES_FAILED):
        return "failed", f"{get(Stat.ARTICLES_FAILED)} article(s) could not be recorded in the archive"
    requested = get(Stat.FEEDS_REQUESTED)
    if requested and not get(Stat.FEEDS_OK):
        return "failed", "no feed could be read: upstream unreachable or every feed invalid"
    unread = get(Stat.FEEDS_FAILED) + get(Stat.FEEDS_INVALID)
    if unread:  # its articles are unknown, so none of them can be said to be archived
        return "failed", f"{unread} of {requested} feed(s) could not be read"
    if requested and not get(Stat.FEEDS_NONEMPTY):
        return "failed", "every feed was empty"
    # A feed record without an infoCode (or not an object) is an article that cannot be archived.
    unreadable = get(Stat.FEED_RECORDS_INVALID)
    attempted = get(Stat.ARTICLES_LISTED) - get(Stat.ARTICLES_SKIPPED) + get(Stat.ARTICLES_REQUESTED) + unreadable
    failed = get(Stat.TEXT_FAILED) + get(Stat.TEXT_INVALID) + unreadable
    outcomes = (
        get(Stat.ARTICLES_NEW)
        + get(Stat.ARTICLES_CHANGED)
        + get(Stat.ARTICLES_UNCHANGED)
        + get(Stat.ARTICLES_DROPPED)
        + get(Stat.ARTICLES_OUTSIDE_WINDOW)
        + failed
        + get(Stat.ARTICLES_QUEUED)
    )
    if shared_frontier:
        attempted = outcomes
    if outcomes < attempted:
        return "failed", f"{attempted - outcomes} of {attempted} article(s) ended without an outcome"
    invalid = get(Stat.SHARE_URL_INVALID)
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
    """Counts the log records of level ERROR and above that no stat counts already
    (those not marked :data:`COUNTED`), and keeps the first one's message."""

    def __init__(self) -> None:
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
