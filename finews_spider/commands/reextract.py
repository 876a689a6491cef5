"""``scrapy reextract [WARC file or folder …]``: clean and archive again every captured
article, without fetching anything."""

from __future__ import annotations

from pathlib import Path

from scrapy.commands.crawl import Command as CrawlCommand
from scrapy.exceptions import UsageError

from ..config import FinewsConfig
from ..crawling import default_workers, reextract_with_workers, run_crawl, settings_refused
from ..run import ARCHIVE_LOCK, EXIT_USAGE
from ..spiders.reextract import ReextractSpider
from . import RUN_EXIT_STATUSES, Help


class Command(Help, CrawlCommand):
    requires_project = True
    description = (
        "Clean and archive again every article captured in WARC files (default: the archive's own, "
        "FINEWS_WARC_DIR; several files or folders, e.g. one per crawl machine, may be given), without "
        "fetching anything: a crawl by the reextract spider, every request answered from the captures. It "
        "holds the archive's lock (as scrapy crawl finews). The articles are split into shards by infoCode, one "
        "worker process each, whose stats are judged as one run."
    )
    examples = (
        "scrapy reextract                      # the archive's own WARC folder",
        "scrapy reextract warc-a/ warc-b/      # the captures of two crawl machines",
        "scrapy reextract --workers 1 -O reextracted.jsonl",
    )
    exit_statuses = RUN_EXIT_STATUSES

    def syntax(self):
        return "[options] [WARC file or folder …, default <FINEWS_WARC_DIR>]"

    def short_desc(self):
        return "Re-extract every captured article from WARC files (no network)"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument(
            "--workers",
            type=int,
            default=default_workers(),
            help="processes to share the work (default: one per core)",
        )

    def run(self, args, opts):
        assert self.settings is not None and self.crawler_process is not None  # set by scrapy.cmdline
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
            forwarded = [arg for setting in opts.set or [] for arg in ("-s", setting)]
            forwarded += [arg for name, value in opts.spargs.items() for arg in ("-a", f"{name}={value}")]
            self.exitcode = reextract_with_workers(self.settings, locations, opts.workers, forwarded)
            return
        crawler = self.crawler_process.create_crawler(ReextractSpider)
        self.exitcode = run_crawl(self.crawler_process, crawler, opts.spargs)
