"""``scrapy reextract [WARC file or folder …]``: clean and archive again every captured
article, without fetching anything: a crawl by :class:`ReextractSpider`, every request
answered from the captures by the replay middleware (default: the archive's own WARC
folder; several folders, e.g. from several crawl machines, may be given).

It holds the same lock as ``scrapy crawl finews`` (both write every paper). With
``--workers N`` (default: the number of cores plus one) the articles are split into N
shards by infoCode, each re-extracted by a ``scrapy reextract`` worker process under the
lock this command holds. The workers report their stats to this command, which gives
the run one verdict: one summary line, one ``crawls`` row with the sums, one exit status,
and one complete ``-o``/``-O`` file.
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
from datetime import UTC, datetime
from pathlib import Path

from scrapy.commands.crawl import Command as CrawlCommand
from scrapy.exceptions import UsageError
from scrapy.utils.misc import load_object

from ..archive import Archive
from ..config import FinewsConfig
from ..exceptions import ArchiveUnusable, LockHeld, SettingsError
from ..run import (
    ARCHIVE_LOCK,
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    crawls_row,
    judge,
    run_figures,
    summary_line,
)
from ..spiders.reextract import ReextractSpider
from .crawl import run_crawl, settings_refused

logger = logging.getLogger(__name__)


def default_workers() -> int:
    """One process per core: measured fastest on 2 cores (10,000 articles, 2 workers
    against 3: 711–723 against 660–671 articles/s into an empty archive, 1,116 against
    964–980 over an existing one; each process's own writer thread already overlaps the
    disk's waits with the crawl's work)."""
    return os.cpu_count() or 1


class Command(CrawlCommand):
    requires_project = True

    def syntax(self):
        return "[options] [WARC file or folder …, default <FINEWS_WARC_DIR>]"

    def short_desc(self):
        return "Re-extract every captured article from WARC files (no network)"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument(
            "--workers", type=int, default=default_workers(), help="processes to share the work (default: one per core)"
        )

    def run(self, args, opts):
        if opts.workers < 1:
            raise UsageError("--workers must be at least 1")
        if settings_refused(self.settings):  # checked once here, not once per worker
            self.exitcode = EXIT_USAGE
            return
        locations = list(args) or [str(FinewsConfig.from_settings(self.settings).warc_dir)]
        for location in locations:
            if not Path(location).exists():
                raise UsageError(f"no WARC file or folder at {location}")
        if "shard" in opts.spargs:  # a worker of another reextract command: it holds the lock
            self.settings.set("FINEWS_LOCK", False, priority="cmdline")
        else:
            self.settings.set("FINEWS_LOCK_NAME", ARCHIVE_LOCK, priority="cmdline")
        self.settings.set("FINEWS_REPLAY", ",".join(locations), priority="cmdline")
        if opts.workers > 1 and "shard" not in opts.spargs:
            self.exitcode = self._run_workers(locations, opts)
            return
        crawler = self.crawler_process.create_crawler(ReextractSpider)
        self.exitcode = run_crawl(self.crawler_process, crawler, opts.spargs)

    def _run_workers(self, locations: list[str], opts) -> int:
        """Run one worker process per shard under this command's lock; judge their
        summed stats as one run."""
        started = datetime.now(UTC)
        clock = time.monotonic()
        try:
            archive = Archive(FinewsConfig.from_settings(self.settings), lock_name=ARCHIVE_LOCK)
        except LockHeld as exc:
            logger.error("not started: %s", exc)
            return EXIT_LOCKED
        except SettingsError as exc:
            logger.error("not started: %s", exc)
            return EXIT_USAGE
        except ArchiveUnusable as exc:  # a damaged or unreadable database: the message says the way back
            logger.error("not started: %s", exc)
            return EXIT_FAILED
        try:
            with tempfile.TemporaryDirectory(prefix="finews-reextract-") as tmp:
                reports, parts, codes = self._start_workers(locations, opts, Path(tmp))
                stats = _sum_reports(reports)
                if self.settings.getdict("FEEDS"):
                    _export(self.settings, parts)
        except BaseException:
            archive.close()
            raise
        reasons = stats.pop("_finish_reasons")
        if len(reasons) < len(codes):
            finish = f"{len(codes) - len(reasons)} worker(s) ended without a report"
        else:
            finish = next((r for r in reasons if r != "finished"), "finished")
        status, why = judge(stats, finish, max_error_ratio=self.settings.getfloat("FINEWS_MAX_ERROR_RATIO"))
        if status == "ok" and any(code != EXIT_OK for code in codes):
            status, why = "failed", f"worker exit statuses {codes}"
        figures = run_figures(stats)
        duration = round(time.monotonic() - clock, 3)
        line = summary_line(
            f"reextract workers={len(codes)}", status, figures, duration, f"reason={why!r}" if why else ""
        )
        (logger.info if status == "ok" else logger.error)(line)
        try:
            finished = datetime.now(UTC)
            archive.record_crawl(
                crawls_row("reextract", status, why or "finished", figures, started, finished, duration)
            )
        finally:
            archive.close()
        return EXIT_OK if status == "ok" else EXIT_FAILED

    def _start_workers(self, locations, opts, tmp: Path):
        forwarded = [*locations]
        for setting in opts.set or []:
            forwarded += ["-s", setting]
        for name, value in opts.spargs.items():
            forwarded += ["-a", f"{name}={value}"]
        workers, reports, parts = [], [], []
        # The workers run in sessions of their own, so a Ctrl-C at the terminal reaches this
        # process only, which passes every SIGINT or SIGTERM on to them once: once is a
        # graceful stop, twice forces it, as for one process; then their reports are judged
        # as usual (a stopped run fails), and none writes into a removed folder.
        received: list[int] = []  # also passed to the workers started after it came

        def forward(signum, frame):
            received.append(signum)
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signum)

        previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            return self._spawn_and_wait(forwarded, opts, tmp, workers, reports, parts, received)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _spawn_and_wait(self, forwarded, opts, tmp: Path, workers, reports, parts, received):
        for shard in range(opts.workers):
            report, part = tmp / f"report-{shard}.json", tmp / f"items-{shard}.jsonl"
            cmd = [
                sys.executable,
                "-m",
                "scrapy",
                "reextract",
                *forwarded,
                "--workers",
                "1",
                "-a",
                f"shard={shard}/{opts.workers}",
                "-s",
                f"FINEWS_RUN_REPORT={report}",
                "-s",
                "FINEWS_RECORD_CRAWL=0",
            ]
            if self.settings.getdict("FEEDS"):
                cmd += ["-O", f"{part}:jsonlines"]
            workers.append(subprocess.Popen(cmd, start_new_session=True))
            for signum in received:
                workers[-1].send_signal(signum)
            reports.append(report)
            parts.append(part)
        codes = [worker.wait() for worker in workers]
        return reports, parts, codes


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
            if isinstance(value, (int, float)) and not isinstance(value, bool):
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
