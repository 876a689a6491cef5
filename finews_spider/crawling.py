"""Runs of the engine, for the commands that crawl (``crawl``, ``reextract``, ``writer``):
:func:`run_crawl` gives every run an honest exit status (0 ok, 1 failed, 2 usage, 75
locked, 130 forced to stop), a ``run summary`` line and, wherever the database is usable,
a ``crawls`` row, also when the run could not start; :func:`reextract_with_workers` splits a
re-extraction over worker processes and gives it one verdict.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from scrapy.utils.misc import load_object

from .archive import Archive
from .config import FinewsConfig, install_config, project_config
from .distributed import worker_settings
from .exceptions import ArchiveUnusable, FleetUnreachable, LockHeld, SettingsError, SpiderArgumentError
from .extensions.archive import ArchiveExtension
from .extensions.summary import RunSummary
from .run import (
    ARCHIVE_LOCK,
    COUNTED,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    Stat,
    crawls_row,
    judge,
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
        install_config(crawler)  # the project's, the command line's and the spider's
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
    for name, value in worker_settings(settings).items():
        settings.set(name, value, priority="cmdline")
    return True


# -- re-extraction with workers ---------------------------------------------------------
def default_workers() -> int:
    """One process per core: measured fastest on 2 cores (10,000 articles, 2 workers
    against 3: 711–723 against 660–671 articles/s into an empty archive, 1,116 against
    964–980 over an existing one; each process's own writer thread already overlaps the
    disk's waits with the crawl's work)."""
    return os.cpu_count() or 1


def reextract_with_workers(settings, locations: list[str], workers: int, forwarded: list[str]) -> int:
    """Re-extract the captures at ``locations`` with ``workers`` ``scrapy reextract``
    processes, each taking one shard of the articles (by infoCode) under the archive's
    lock, which this process holds; their stats, reported to this process, are judged as
    one run: one summary line, one ``crawls`` row with the sums, one exit status, and one
    complete ``-o``/``-O`` file. ``forwarded``: the command-line options every worker gets
    (``-s``, ``-a``)."""
    started = datetime.now(UTC)
    clock = time.monotonic()
    try:
        config = FinewsConfig.from_settings(settings)
        archive = Archive(config, lock_name=ARCHIVE_LOCK)
    except (LockHeld, SettingsError, ArchiveUnusable) as exc:  # a damaged database: the message says the way back
        logger.error("not started: %s", exc)
        return next(code for kind, (code, _) in NOT_STARTED.items() if isinstance(exc, kind))
    feeds = settings.getdict("FEEDS")
    try:
        with tempfile.TemporaryDirectory(prefix="finews-reextract-") as tmp:
            reports, parts, codes = _run_workers([*locations, *forwarded], workers, Path(tmp), bool(feeds))
            stats = _sum_reports(reports)
            if feeds:
                _export(settings, parts)
    except BaseException:
        archive.close()
        raise
    reasons = stats.pop("_finish_reasons")
    if len(reasons) < len(codes):
        finish = f"{len(codes) - len(reasons)} worker(s) ended without a report"
    else:
        finish = next((r for r in reasons if r != "finished"), "finished")
    status, why = judge(stats, finish, max_error_ratio=config.max_error_ratio)
    if status == "ok" and any(code != EXIT_OK for code in codes):
        status, why = "failed", f"worker exit statuses {codes}"
    figures = run_figures(stats)
    duration = round(time.monotonic() - clock, 3)
    line = summary_line(f"reextract workers={len(codes)}", status, figures, duration, f"reason={why!r}" if why else "")
    (logger.info if status == "ok" else logger.error)(line)
    try:
        finished = datetime.now(UTC)
        archive.record_crawl(crawls_row("reextract", status, why or "finished", figures, started, finished, duration))
    finally:
        archive.close()
    return EXIT_OK if status == "ok" else EXIT_FAILED


def _run_workers(forwarded: list[str], count: int, tmp: Path, feeds: bool):
    """Start the ``count`` workers and wait for them; their report files, item files and
    exit statuses. The workers run in sessions of their own, so a Ctrl-C at the terminal
    reaches this process only, which passes every SIGINT or SIGTERM on to them once: once
    is a graceful stop, twice forces it, as for one process; then their reports are judged
    as usual (a stopped run fails), and none writes into a removed folder."""
    workers: list[subprocess.Popen] = []
    received: list[int] = []  # also passed to the workers started after it came

    def forward(signum, frame):
        received.append(signum)
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        reports, parts = [], []
        for shard in range(count):
            report, part = tmp / f"report-{shard}.json", tmp / f"items-{shard}.jsonl"
            cmd = [sys.executable, "-m", "scrapy", "reextract", *forwarded, "--workers", "1"]
            cmd += ["-a", f"shard={shard}/{count}", "-s", f"FINEWS_RUN_REPORT={report}", "-s", "FINEWS_RECORD_CRAWL=0"]
            if feeds:
                cmd += ["-O", f"{part}:jsonlines"]
            workers.append(subprocess.Popen(cmd, start_new_session=True))
            for signum in received:
                workers[-1].send_signal(signum)
            reports.append(report)
            parts.append(part)
        codes = [worker.wait() for worker in workers]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return reports, parts, codes


#: Stats every worker counts of the same things (each reads every WARC file): not summed.
_SEEN_BY_EVERY_WORKER = {Stat.WARC_DAMAGED}


def _sum_reports(reports: list[Path]) -> dict:
    """The stats of the workers added up (numbers summed; the rest from the first)."""
    total: dict = {"_finish_reasons": []}
    for path in reports:
        try:
            stats = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        total["_finish_reasons"].append(stats.pop("finish_reason", "unknown"))
        for key, value in stats.items():
            if key in _SEEN_BY_EVERY_WORKER:
                total[key] = max(total.get(key, 0), value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
            else:
                total.setdefault(key, value)
    return total


def _export(settings, parts: list[Path]) -> None:
    """Write the workers' items into each ``-o``/``-O`` target, in its own format, as one
    file (Scrapy's item exporters)."""
    exporters = settings.getwithbase("FEED_EXPORTERS")
    for uri, options in settings.getdict("FEEDS").items():
        exporter_cls = load_object(exporters[options["format"]])
        mode = "wb" if options.get("overwrite") else "ab"
        with open(uri, mode) as f:
            exporter = exporter_cls(f, encoding=settings.get("FEED_EXPORT_ENCODING") or "utf-8")
            exporter.start_exporting()
            for part in parts:
                if part.exists():
                    with open(part, encoding="utf-8") as lines:
                        for line in lines:
                            if line.strip():
                                exporter.export_item(json.loads(line))
            exporter.finish_exporting()
