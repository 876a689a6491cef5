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
import os
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from scrapy.commands import ScrapyHelpFormatter
from scrapy.exceptions import UsageError

from ..run import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_LOCKED, EXIT_OK, EXIT_USAGE


class HelpFormatter(ScrapyHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Scrapy's help layout, with the description and the epilog (examples, exit
    statuses) kept as written."""


class Help:
    """What every command of the project does alike (mixed into a ``ScrapyCommand``): its
    help, declared once, and the shell's conventions:

    - ``LOG_FILE`` in a folder that does not exist yet: the folder is made (else Scrapy
      stops with a traceback before anything else runs);
    - output to a closed pipe ends quietly, to a full device with one line (:func:`emit`).
    """

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

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)  # type: ignore[misc]
        log_file = self.settings.get("LOG_FILE")  # type: ignore[attr-defined]
        if log_file:
            folder = Path(log_file).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(f"LOG_FILE={log_file}: its folder cannot be made ({exc.strerror or exc})") from None


def emit(text: str, stream: TextIO | None = None) -> bool:
    """Write ``text`` (and a newline) to ``stream`` (stdout) and flush it. A reader that
    went away (``| head``) ends the output quietly: stdout is pointed at /dev/null so
    nothing more is tried at exit, and False is returned. Other errors (a full device)
    are raised as ``OSError`` for the command to report in one line."""
    stream = stream or sys.stdout
    try:
        stream.write(text + "\n")
        stream.flush()
    except BrokenPipeError:
        silence_stdout()
        return False
    except OSError:
        silence_stdout()
        raise
    return True


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush at exit cannot fail."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


#: The exit statuses of every run of the engine (crawl, reextract, writer).
RUN_EXIT_STATUSES = (
    (EXIT_OK, "every article listed was archived, found unchanged, or dropped for a stated reason"),
    (EXIT_FAILED, "the run failed; its summary line and crawls row say why"),
    (EXIT_USAGE, "a spider name, spider argument or setting that cannot be used; nothing was done"),
    (EXIT_LOCKED, "another run holds the lock (try later; no crawls row)"),
    (EXIT_INTERRUPTED, "forced to stop (a second Ctrl-C): what was recorded stays"),
)
