"""``scrapy search WORDS``: the archive's Chinese search from the shell, like grep
(:func:`finews_spider.api.search`)."""

from __future__ import annotations

import json
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from .. import api
from ..config import FinewsConfig
from ..crawling import settings_refused
from ..exceptions import ArchiveDamaged
from ..run import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from ..search import SearchSyntaxError, parse_query
from . import Help, emit

HIGHLIGHT = ("\x1b[01;31m", "\x1b[m")  # grep's colours


def format_match(match: dict, indent: str = "    ") -> str:
    """One match as the shell prints it: date, newspaper and title on a line, then the
    share link and the snippet, indented."""
    when = (match["published_at"] or "")[:16].replace("T", " ")
    return f"{when}  {match['newspaper']}  {match['title']}\n{indent}{match['share_url']}\n{indent}{match['snippet']}"


def query_words(args: list[str]) -> list[str]:
    """The words of the command line: every argument, ``-word`` (a word left out) included,
    but an unknown option (``--name``, or a dash and one ASCII letter, ``-n``): a
    UsageError. After ``--`` every argument is a word."""
    words: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return words + args[i + 1 :]
        if arg.startswith("--") or (len(arg) == 2 and arg[0] == "-" and arg[1].isascii() and arg[1].isalpha()):
            raise UsageError(f"unknown option: {arg}")
        words.append(arg)
    return words


class Command(Help, ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}
    description = (
        'Search the archive for articles containing every word (a "quoted phrase" as one; OR between terms; '
        "-word or NOT word to leave out; ( ) to group; see docs/search-syntax.md), newest first: each match's "
        "date, newspaper, title, share link and an excerpt around the words (highlighted on a terminal)."
    )
    examples = (
        "scrapy search 十四五",
        "scrapy search 国寿 --newspaper shanxiwanbao --since 2021-12-01",
        "scrapy search --stock 600160 --limit 0",
        "scrapy search 高质量发展 --json > matches.json",
    )
    exit_statuses = (
        (EXIT_OK, "something matched"),
        (EXIT_FAILED, "nothing matched"),
        (EXIT_USAGE, "a usage error (a query outside the search syntax included), or no readable archive"),
    )

    def syntax(self):
        return "[WORDS…] [--stock CODE] [--newspaper SLUG] [--since DATE] [--until DATE] [--limit N] [--json]"

    def short_desc(self):
        return "Search the archive (Chinese words of any length), newest first"

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
        if settings_refused(self.settings):
            self.exitcode = EXIT_USAGE
            return
        limit = opts.limit or None
        try:
            matches = api.search(
                FinewsConfig.from_settings(self.settings),
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
        except (api.ArchiveMissing, ArchiveDamaged) as exc:
            print(f"scrapy search: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        more = limit is not None and len(matches) > limit
        matches = matches[:limit]
        self.exitcode = EXIT_OK if matches else EXIT_FAILED
        try:
            if opts.json:
                emit(json.dumps(matches, ensure_ascii=False, indent=2))
            elif matches:
                emit("\n\n".join(format_match(m) for m in matches))
        except OSError as exc:  # a full device: one line
            print(f"scrapy search: cannot write the matches: {exc.strerror or exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        if more:
            print(f"(more than {limit} matches: --limit N to see more, --limit 0 for all)", file=sys.stderr)
