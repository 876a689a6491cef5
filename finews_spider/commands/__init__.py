"""The project's Scrapy commands (``COMMANDS_MODULE``): each parses its options and calls a
function of the Python API (``finews_spider.api`` for the archive, ``finews_spider.crawling``
for runs of the engine), with the same parameter names.

Every command declares its help once (:class:`Help`): what it does, examples and exit
statuses; ``scrapy <command> -h`` prints them with the options, and
``docs/reference/commands.md`` is generated from the same attributes
(``finews_spider.reference``).
"""

from __future__ import annotations

import argparse
import textwrap
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyHelpFormatter

from ..run import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_LOCKED, EXIT_OK, EXIT_USAGE


class HelpFormatter(ScrapyHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Scrapy's help layout, with the description and the epilog (examples, exit
    statuses) kept as written."""


class Help:
    """A command's help, declared once (mixed into a ``ScrapyCommand``)."""

    #: What the command does: a paragraph (``short_desc`` is its first sentence's gist).
    description = ""
    #: Command lines a user would type, each with an optional ``# comment``.
    examples: tuple[str, ...] = ()
    #: ``(exit status, meaning)`` of every way the command ends.
    exit_statuses: tuple[tuple[int, str], ...] = ()

    if TYPE_CHECKING:  # ScrapyCommand's, or the command's own

        def short_desc(self) -> str: ...

    def long_desc(self) -> str:
        return textwrap.fill(self.description, 88) if self.description else self.short_desc()

    def epilog(self) -> str:
        parts = []
        if self.examples:
            parts.append("Examples\n========\n" + "\n".join(f"  {line}" for line in self.examples))
        if self.exit_statuses:
            parts.append(
                "Exit status\n===========\n"
                + "\n".join(f"  {code:<4} {meaning}" for code, meaning in self.exit_statuses)
            )
        return "\n\n".join(parts)

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)  # type: ignore[misc]
        parser.formatter_class = HelpFormatter
        parser.epilog = self.epilog()


#: The exit statuses of every run of the engine (crawl, reextract, writer).
RUN_EXIT_STATUSES = (
    (EXIT_OK, "every article listed was archived, found unchanged, or dropped for a stated reason"),
    (EXIT_FAILED, "the run failed; its summary line and crawls row say why"),
    (EXIT_USAGE, "a spider name, spider argument or setting that cannot be used; nothing was done"),
    (EXIT_LOCKED, "another run holds the lock (try later; no crawls row)"),
    (EXIT_INTERRUPTED, "forced to stop (a second Ctrl-C): what was recorded stays"),
)
