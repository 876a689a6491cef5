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
from ..search import SearchSyntaxError, parse_query, search_archive
from .crawl import EXIT_USAGE, settings_refused

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


def query_words(args: list[str]) -> list[str]:
    """The words of the command line: every argument, ``-word`` (a word left out) included,
    but an unknown option (``--name``, or a dash and one ASCII letter, ``-n``): a
    UsageError. After ``--`` every argument is a word."""
    words = []
    for i, arg in enumerate(args):
        if arg == "--":
            return words + args[i + 1 :]
        if arg.startswith("--") or (len(arg) == 2 and arg[0] == "-" and arg[1].isascii() and arg[1].isalpha()):
            raise UsageError(f"unknown option: {arg}")
        words.append(arg)
    return words


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self):
        return "[WORDS…] [--stock CODE] [--newspaper SLUG] [--since DATE] [--until DATE] [--limit N] [--json]"

    def short_desc(self):
        return "Search the archive (Chinese words of any length), newest first"

    def long_desc(self):
        return (
            'Search the archive for articles containing every word (a "quoted phrase" as one; OR between '
            "terms; -word or NOT word to leave out; ( ) to group; see docs/search-syntax.md), newest "
            "first. Exit status: 0 if something matched, 1 if nothing did, 2 on a usage error (a query "
            "outside the search syntax included) or when there is no readable archive."
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
        words = " ".join(query_words(args)).strip()
        if not words and not (opts.stock or "").strip():
            raise UsageError("no words to search for (or --stock CODE)")
        if opts.limit < 0:
            raise UsageError(f"--limit: not a count: {opts.limit}")
        try:
            parse_query(words)
        except SearchSyntaxError as exc:
            print(f"scrapy search: {exc}", file=sys.stderr)  # one line, like the archive's errors
            self.exitcode = EXIT_USAGE
            return
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
