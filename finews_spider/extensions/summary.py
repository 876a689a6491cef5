"""The end of every run: one summary line, a ``crawls`` row, and the exit status."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

from scrapy import signals

from ..exporters.sqlite import ArchiveDatabase
from ..pipelines.export import database_path, enabled_exporters

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED = 0, 1


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
        "errors": get("finews/errors"),
    }


_SUMMARY = re.compile(r"run summary: spider=\S+ (?:workers=\d+ )?status=(\w+) (?P<figures>.*?) duration=")


def summary_line(name: str, status: str, figures: dict, duration: float, extra: str = "") -> str:
    """The one line that ends every run (read back by :func:`parse_summary`)."""
    return (f"run summary: spider={name} status={status} "
            + " ".join(f"{k.replace('articles_', '')}={v}" for k, v in figures.items())
            + f" duration={duration}s" + (f" {extra}" if extra else ""))


def parse_summary(line: str) -> dict | None:
    """The figures of a summary line, keyed as :func:`run_figures` keys them."""
    match = _SUMMARY.search(line)
    if match is None:
        return None
    short = {k: int(v) for k, v in (pair.split("=") for pair in match["figures"].split())}
    return {key: short[key.replace("articles_", "")] for key in run_figures({})}


def judge(stats: dict, finish_reason: str, *, share_mode: bool, max_error_ratio: float) -> tuple[str, str]:
    """``("ok" | "failed", why)`` for a finished run. Pure, so each rule is testable."""
    if finish_reason != "finished":
        return "failed", f"run ended early: {finish_reason}"
    if stats.get("finews/db_batches_failed"):
        return "failed", f"{stats['finews/db_batches_failed']} database batch(es) could not be written"
    if not share_mode:
        requested = stats.get("finews/feeds_requested", 0)
        if requested and not stats.get("finews/feeds_ok"):
            return "failed", "no feed could be read: upstream unreachable or every feed invalid"
        if requested and not stats.get("finews/feeds_nonempty"):
            return "failed", "every feed was empty"
    attempted = (stats.get("finews/articles_listed", 0) - stats.get("finews/articles_skipped", 0)
                 + stats.get("finews/articles_requested", 0) + stats.get("finews/share_url_invalid", 0))
    article_errors = stats.get("finews/text_failed", 0) + stats.get("finews/text_invalid", 0) + stats.get("finews/share_url_invalid", 0)
    if attempted and article_errors / attempted > max_error_ratio:
        return "failed", f"{article_errors} of {attempted} articles failed (FINEWS_MAX_ERROR_RATIO={max_error_ratio})"
    return "ok", ""


class RunSummary:
    """Logs ``run summary: ...`` once per run, records it in the ``crawls`` table, and
    sets the stat ``finews/exit_code`` that ``scrapy crawl`` exits with."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.started = datetime.now(timezone.utc)

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider):
        self.started = datetime.now(timezone.utc)

    def spider_closed(self, spider, reason):
        stats = self.crawler.stats.get_stats()
        settings = self.crawler.settings
        status, why = judge(
            stats, reason, share_mode=getattr(spider, "share_urls", None) is not None or not getattr(spider, "reads_feeds", True),
            max_error_ratio=settings.getfloat("FINEWS_MAX_ERROR_RATIO"),
        )
        finished = datetime.now(timezone.utc)
        figures = run_figures(stats)
        duration = round((finished - self.started).total_seconds(), 3)
        self.crawler.stats.set_value("finews/exit_code", EXIT_OK if status == "ok" else EXIT_FAILED)
        self.crawler.stats.set_value("finews/status", status)
        line = summary_line(spider.name, status, figures, duration, f"reason={why!r}" if why else "")
        (logger.info if status == "ok" else logger.error)(line)
        if "sqlite" in enabled_exporters(settings):
            db = ArchiveDatabase(database_path(settings))
            try:
                db.record_crawl({
                    "spider": spider.name, "started_at": self.started.isoformat(timespec="seconds"),
                    "finished_at": finished.isoformat(timespec="seconds"), "status": status,
                    "reason": why or reason, **figures, "duration_seconds": duration,
                })
            finally:
                db.close()
