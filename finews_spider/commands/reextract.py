"""``scrapy reextract [WARC file or folder]``: run cleaning and export again over every
captured article, without fetching anything.

With ``--workers N`` (default: the number of cores plus one) the captured articles are split into
N shards by infoCode, each re-extracted by its own ``scrapy reextract`` process; they
share the archive (posts are per article, database batches are transactions)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

from scrapy.commands.crawl import Command as CrawlCommand
from scrapy.exceptions import UsageError

from ..spiders.reextract import ReextractSpider
from ..extensions.summary import parse_summary, run_figures, summary_line
from .crawl import EXIT_USAGE, run_crawl, settings_refused

logger = logging.getLogger(__name__)


def default_workers() -> int:
    """One process per core, plus one to use the time the others wait for the disk
    (every post is flushed before its database row): measured fastest on 2 cores."""
    return (os.cpu_count() or 1) + 1


class Command(CrawlCommand):
    requires_project = True

    def syntax(self):
        return "[options] [WARC file or folder, default <FINEWS_DATA_DIR>/warc]"

    def short_desc(self):
        return "Re-extract every captured article from WARC files (no network)"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--workers", type=int, default=default_workers(),
                            help="processes to share the work (default: cores + 1)")

    def run(self, args, opts):
        if len(args) > 1:
            raise UsageError("give at most one WARC file or folder")
        if opts.workers < 1:
            raise UsageError("--workers must be at least 1")
        if settings_refused(self.settings):  # checked once here, not once per worker
            self.exitcode = EXIT_USAGE
            return
        spargs = dict(opts.spargs)
        if args:
            spargs["warc"] = args[0]
        if opts.workers > 1 and "shard" not in spargs:
            self.exitcode = self._run_workers(args, opts)
            return
        crawler = self.crawler_process.create_crawler(ReextractSpider)
        self.exitcode = run_crawl(self.crawler_process, crawler, spargs)

    @staticmethod
    def _run_workers(args, opts) -> int:
        """One ``scrapy reextract`` process per shard, with this command's options; their
        logs pass through, and their run summaries are added up into one."""
        forwarded = [*args]
        for setting in opts.set or []:
            forwarded += ["-s", setting]
        for name, value in opts.spargs.items():
            forwarded += ["-a", f"{name}={value}"]
        started = time.monotonic()
        workers, readers, summaries = [], [], []
        for shard in range(opts.workers):
            cmd = [sys.executable, "-m", "scrapy", "reextract", *forwarded, "--workers", "1",
                   "-a", f"shard={shard}/{opts.workers}", "-s", f"FINEWS_LOCK_NAME=reextract-{shard}"]
            worker = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, bufsize=1)
            reader = threading.Thread(target=_relay, args=(worker.stderr, summaries), daemon=True)
            reader.start()
            workers.append(worker)
            readers.append(reader)
        codes = [worker.wait() for worker in workers]
        for reader in readers:
            reader.join()
        status = "ok" if all(code == 0 for code in codes) and len(summaries) == len(workers) else "failed"
        totals = {key: sum(s[key] for s in summaries) for key in run_figures({})}
        line = summary_line(f"reextract workers={len(workers)}", status, totals,
                            round(time.monotonic() - started, 3), f"exit_statuses={codes}")
        (logger.info if status == "ok" else logger.error)(line)
        return max(codes, key=lambda c: (c != 0, abs(c)))


def _relay(stream, summaries: list) -> None:
    for line in stream:
        sys.stderr.write(line)
        figures = parse_summary(line)
        if figures is not None:
            summaries.append(figures)
