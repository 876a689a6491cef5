"""``scrapy export OUT``: the archive, or the part a filter selects, as JSON Lines or CSV
(:func:`finews_spider.api.export`)."""

from __future__ import annotations

import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from .. import api
from ..config import FinewsConfig
from ..crawling import settings_refused
from ..exceptions import ArchiveDamaged, OutputRefused
from ..exporters.rows import FORMATS
from ..run import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from ..search import SearchSyntaxError
from . import Help, silence_stdout


class Command(Help, ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}
    description = (
        "Write every column of the selected articles (all of them without a filter) and their mentions to OUT "
        "('-': stdout) as JSON Lines or CSV (by OUT's extension unless --format), newest first, streamed through "
        "a temporary file renamed to OUT when complete. The filters are those of scrapy search."
    )
    examples = (
        "scrapy export articles.jsonl",
        "scrapy export shanxiwanbao.csv --newspaper shanxiwanbao --since 2021-12-01",
        "scrapy export - --search 十四五 | head -1",
        "scrapy export 600160.csv --stock 600160",
    )
    exit_statuses = (
        (EXIT_OK, "rows were written"),
        (EXIT_FAILED, "nothing matched (OUT then holds an empty export: no lines, or the CSV header)"),
        (EXIT_USAGE, "a usage error, no readable archive, or OUT cannot be written"),
    )

    def syntax(self):
        return (
            "OUT [--format jsonl|csv] [--newspaper SLUG] [--since DATE] [--until DATE] [--search WORDS] [--stock CODE]"
        )

    def short_desc(self):
        return "Export the archive (or a selection) as JSON Lines or CSV, newest first"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--format", choices=FORMATS, help="jsonl or csv (default: from OUT's extension)")
        parser.add_argument("--newspaper", metavar="SLUG", help="only this newspaper (e.g. shanxiwanbao)")
        parser.add_argument("--since", metavar="DATE", help="published on or after DATE (YYYY-MM-DD, Beijing time)")
        parser.add_argument("--until", metavar="DATE", help="published on or before DATE (YYYY-MM-DD)")
        parser.add_argument("--search", metavar="WORDS", help="only articles containing every word (as scrapy search)")
        parser.add_argument(
            "--stock", metavar="CODE", help="only articles mentioning this security or board (code or name)"
        )

    def run(self, args, opts):
        if len(args) != 1:
            raise UsageError("one output file expected (OUT, or - for stdout)")
        out = args[0]
        if settings_refused(self.settings):
            self.exitcode = EXIT_USAGE
            return
        try:
            count = api.export(
                FinewsConfig.from_settings(self.settings),
                out,
                format=opts.format,
                newspaper=opts.newspaper,
                since=opts.since,
                until=opts.until,
                search=opts.search,
                stock=opts.stock,
            )
        except (OutputRefused, SearchSyntaxError) as exc:
            print(f"scrapy export: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        except (api.ArchiveMissing, ArchiveDamaged) as exc:
            print(f"scrapy export: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        except BrokenPipeError:  # `scrapy export - | head`: the reader has what it wanted
            silence_stdout()
            return
        except OSError as exc:  # a full disk or device, a folder not writable: nothing left behind
            silence_stdout()
            print(f"scrapy export: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        if out != "-":
            print(
                f"scrapy export: {count} articles written to {out} ({opts.format or api.format_for(out)})",
                file=sys.stderr,
            )
        self.exitcode = EXIT_OK if count else EXIT_FAILED
