"""``scrapy serve``: browse the archive with Datasette, read-only, on localhost.

The command *becomes* Datasette (``os.execv``): there is no child process, so whatever
stops the command (Ctrl-C, ``kill``, systemd) stops the server and frees its port, and
Ctrl-C ends it with Datasette's own clean shutdown, not a traceback. Before that it checks
the settings and that the port is free, and serves an archive it cannot write to (a
read-only file, folder or file system) in Datasette's immutable mode
(:func:`finews_spider.api.serve_command`). The Datasette plugin comes with the installed
package (entry point ``datasette``), so this is plain ``datasette serve`` of the archive.
"""

from __future__ import annotations

import os
import sys

from scrapy.commands import ScrapyCommand

from .. import api
from ..config import FinewsConfig
from ..crawling import settings_refused
from ..run import EXIT_FAILED, EXIT_USAGE
from . import Help


class Command(Help, ScrapyCommand):
    requires_project = True
    requires_crawler_process = False  # never crawls: no reactor, no engine
    description = (
        "Serve the archive with Datasette (read-only, on localhost unless --host says otherwise): search, facets, "
        "canned queries and charts, through the finews plugin. The command becomes the server: stopping it "
        "stops the server and frees the port."
    )
    examples = (
        "scrapy serve                 # http://127.0.0.1:8001",
        "scrapy serve --port 8002",
        "scrapy serve --host 0.0.0.0 --public   # to the network: mean it",
    )
    exit_statuses = (
        (0, "the server was stopped (Ctrl-C)"),
        (EXIT_FAILED, "no archive, the port is taken, or the plugin is not installed"),
        (EXIT_USAGE, "a setting that cannot be used, or a --host beyond this machine without --public"),
    )

    def syntax(self):
        return "[options]"

    def short_desc(self):
        return "Serve the SQLite archive with Datasette (read-only, localhost)"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--port", type=int, default=8001, help="port (default 8001)")
        parser.add_argument(
            "--host", default="127.0.0.1", help="address (default 127.0.0.1; one beyond this machine needs --public)"
        )
        parser.add_argument(
            "--public",
            action="store_true",
            help="allow a --host beyond this machine (the archive is served to the network)",
        )

    def run(self, args, opts):
        if settings_refused(self.settings):
            self.exitcode = EXIT_USAGE
            return
        try:
            argv, notices = api.serve_command(
                FinewsConfig.from_settings(self.settings), host=opts.host, port=opts.port, public=opts.public
            )
        except ValueError as exc:
            print(f"scrapy serve: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        except api.ArchiveMissing as exc:
            print(exc, file=sys.stderr)
            self.exitcode = EXIT_FAILED
            return
        except RuntimeError as exc:
            print(f"scrapy serve: {exc}", file=sys.stderr)
            self.exitcode = EXIT_FAILED
            return
        for notice in notices:
            print(notice, file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(argv[0], argv)  # this process becomes the server: nothing is left behind
