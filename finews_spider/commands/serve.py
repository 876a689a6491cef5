"""``scrapy serve``: browse the archive with Datasette, read-only, on localhost.

The Datasette plugin comes with the installed package (entry point ``datasette``), so
this is plain ``datasette serve`` of the archive; ``scrapy serve`` only finds the file
and the optional metadata for you."""

from __future__ import annotations

import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

from scrapy.commands import ScrapyCommand

from ..pipelines.export import database_path

PLUGIN_MODULE = "finews_spider.datasette_plugin"
# The metadata that ships with the code; a data directory may carry its own.
DEFAULT_METADATA = Path(__file__).resolve().parents[2] / "data" / "metadata.yml"


def plugin_installed() -> bool:
    """True if Datasette will load the finews plugin (the package is installed)."""
    return any(ep.value == PLUGIN_MODULE for ep in entry_points(group="datasette"))


def datasette_args(db: Path, metadata: Path | None = None, host: str = "127.0.0.1", port: int = 8001) -> list[str]:
    """The ``datasette serve`` command line for an archive (also used by the tests)."""
    args = [sys.executable, "-m", "datasette", "serve", str(db),
            "-h", host, "-p", str(port), "--setting", "default_page_size", "50"]
    if metadata is not None and metadata.exists():
        args += ["--metadata", str(metadata)]
    return args


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self):
        return "[options]"

    def short_desc(self):
        return "Serve the SQLite archive with Datasette (read-only, localhost)"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--port", type=int, default=8001, help="port (default 8001)")
        parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")

    def run(self, args, opts):
        db = database_path(self.settings)
        if not db.exists():
            print(f"no archive at {db}: run a crawl first")
            self.exitcode = 1
            return
        if not plugin_installed():
            print("the finews Datasette plugin is not installed: pip install -e . (in the project folder)")
            self.exitcode = 1
            return
        metadata = Path(self.settings.get("FINEWS_DATA_DIR")) / "metadata.yml"
        if not metadata.exists():
            metadata = DEFAULT_METADATA
        args = datasette_args(db, metadata, opts.host, opts.port)
        sys.stdout.flush()
        # Become Datasette (no child process left behind when this one is stopped).
        os.execv(args[0], args)
