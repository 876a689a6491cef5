"""``scrapy search WORDS``: the archive's Chinese search from the shell, like grep.

Prints, newest first, each matching article's date, newspaper, title, share link and an
excerpt around the words (highlighted on a terminal). Exit status: 0 something matched,
1 nothing did, 2 usage error or no readable archive. The work is done by
``finews_spider.search.search_archive``, which Python code can call directly."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from ..archive import open_read_only
from ..config import FinewsConfig
from ..run import EXIT_USAGE
from ..search import search_archive
from .crawl import settings_refused

HIGHLIGHT = ("\x1b[01;31m", "\x1b[m")  # grep's colours


def open_archive_read_only(command: str, settings) -> tuple[sqlite3.Connection, Path] | None:
    """A read-only connection to the archive of ``settings`` and its path, or None after
    saying why on stderr (bad settings, no archive, not a readable archive): the caller
    then exits 2. Shared by the commands that only read (``search``, ``export``)."""
    if settings_refused(settings):
        return None
    path = FinewsConfig.from_settings(settings).database_path
    try:
        return open_read_only(path), path
    except FileNotFoundError:
        print(f"scrapy {command}: no archive at {path}: run a crawl first", file=sys.stderr)
    except sqlite3.DatabaseError as exc:
        print(f"scrapy {command}: {path} is not a readable finews archive: {exc}", file=sys.stderr)
    return None


def format_match(match: dict, indent: str = "    ") -> str:
    """One match as the shell prints it: date, newspaper and title on a line, then the
    share link and the snippet, indented."""
    when = (match["published_at"] or "")[:16].replace("T", " ")
    return f"{when}  {match['newspaper']}  {match['title']}\n{indent}{match['share_url']}\n{indent}{match['snippet']}"


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self):
        return "[WORDS…] [--stock CODE] [--newspaper SLUG] [--since DATE] [--until DATE] [--limit N] [--json]"

    def short_desc(self):
        return "Search the archive (Chinese words of any length), newest first"

    def long_desc(self):
        return (
            'Search the archive for articles containing every word (a "quoted phrase" as one), newest '
            "first. Exit status: 0 if something matched, 1 if nothing did, 2 on a usage error or when "
            "there is no readable archive."
        )

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument(
            "--stock",
            metavar="CODE",
            help="only articles mentioning this security or board (code such as 600160 or BK0493, or its name)",
        )
        parser.add_argument("--newspaper", metavar="SLUG", help="only this newspaper (e.g. shanxiwanbao)")
        parser.add_argument("--since", metavar="DATE", help="published on or after DATE (YYYY-MM-DD, Beijing time)")
        parser.add_argument("--until", metavar="DATE", help="published on or before DATE (YYYY-MM-DD)")
        parser.add_argument("--limit", metavar="N", type=int, default=20, help="at most N matches (default 20; 0: all)")
        parser.add_argument("--json", action="store_true", help="print the matches as a JSON array")

    def run(self, args, opts):
        unknown = [a for a in args if a.startswith("-") and len(a) > 1]
        if unknown:
            raise UsageError(f"unknown option: {unknown[0]}")
        words = " ".join(args).strip()
        if not words and not (opts.stock or "").strip():
            raise UsageError("no words to search for (or --stock CODE)")
        if opts.limit < 0:
            raise UsageError(f"--limit: not a count: {opts.limit}")
        opened = open_archive_read_only("search", self.settings)
        if opened is None:
            self.exitcode = EXIT_USAGE
            return
        conn, path = opened
        limit = opts.limit or None
        try:
            matches = search_archive(
                conn,
                words,
                newspaper=opts.newspaper,
                since=opts.since,
                until=opts.until,
                stock=opts.stock,
                limit=limit + 1 if limit else None,
                mark=HIGHLIGHT if sys.stdout.isatty() and not opts.json else ("", ""),
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            print(f"scrapy search: {path} is not a readable finews archive: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        finally:
            conn.close()
        more = limit is not None and len(matches) > limit
        matches = matches[:limit]
        if opts.json:
            print(json.dumps(matches, ensure_ascii=False, indent=2))
        elif matches:
            print("\n\n".join(format_match(m) for m in matches))
        if more:
            print(f"(more than {limit} matches: --limit N to see more, --limit 0 for all)", file=sys.stderr)
        self.exitcode = 0 if matches else 1
