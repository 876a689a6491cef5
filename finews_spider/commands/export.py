"""``scrapy export OUT``: the archive, or the part a filter selects, as JSON Lines or CSV.

Every column of the ``articles`` row plus the article's mentions (see
``finews_spider.exporters.rows``), newest first, streamed (memory stays flat whatever the
archive's size) into a temporary file renamed to ``OUT`` when complete (``-``: stdout).
The filters are those of ``scrapy search`` (``search.article_filters``). Exit status, like
grep: 0 rows were written, 1 nothing matched (``OUT`` then holds an empty export: no
lines, or the CSV header), 2 usage error, no readable archive, or ``OUT`` cannot be
written (as grep's 2: trouble)."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from ..exporters.rows import FORMATS, article_columns, export_rows, format_for, write_csv, write_jsonl
from ..files import atomic_output
from ..run import EXIT_USAGE
from ..search import article_filters, fts_query
from .search import open_archive_read_only


def run_export(conn: sqlite3.Connection, out: str, fmt: str, filters: list) -> int:
    """Write the selected rows of the archive on ``conn`` to ``out`` in ``fmt``; the count."""
    rows = export_rows(conn, filters)
    with atomic_output(out) as f:
        if fmt == "csv":
            return write_csv(rows, f, article_columns(conn))
        return write_jsonl(rows, f)


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self):
        return (
            "OUT [--format jsonl|csv] [--newspaper SLUG] [--since DATE] [--until DATE] [--search WORDS] [--stock CODE]"
        )

    def short_desc(self):
        return "Export the archive (or a selection) as JSON Lines or CSV, newest first"

    def long_desc(self):
        return (
            "Write every column of the selected articles (all of them without a filter) and their mentions "
            "to OUT ('-': stdout) as JSON Lines or CSV (by OUT's extension unless --format), newest first. "
            "Exit status: 0 rows written, 1 nothing matched, 2 usage error, no readable archive or OUT not "
            "writable."
        )

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
        fmt = opts.format or format_for(out)
        if fmt is None:
            raise UsageError(f"{out}: cannot tell the format from the name: end it in .jsonl or .csv, or give --format")
        if opts.search is not None and fts_query(opts.search) == '""':
            raise UsageError(f"--search: no words to search for in {opts.search!r}")
        if opts.stock is not None and not opts.stock.strip():
            raise UsageError("--stock: empty code")
        try:
            filters = article_filters(
                opts.search or "",
                newspaper=opts.newspaper,
                since=opts.since,
                until=opts.until,
                stock=opts.stock,
                require=False,
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if out != "-" and not Path(out).resolve().parent.is_dir():
            raise UsageError(f"{out}: no such folder")
        opened = open_archive_read_only("export", self.settings)
        if opened is None:
            self.exitcode = EXIT_USAGE
            return
        conn, path = opened
        try:
            count = run_export(conn, out, fmt, filters)
        except sqlite3.DatabaseError as exc:
            print(f"scrapy export: {path} is not a readable finews archive: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        except BrokenPipeError:  # `scrapy export - | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
        except OSError as exc:
            print(f"scrapy export: cannot write {out}: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        finally:
            conn.close()
        if out != "-":
            print(f"scrapy export: {count} articles written to {out} ({fmt})", file=sys.stderr)
        self.exitcode = 0 if count else 1
