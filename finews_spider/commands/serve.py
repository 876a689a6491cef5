"""``scrapy serve``: browse the archive with Datasette, read-only, on localhost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand

from ..archive import ArchiveSettings

PLUGINS_DIR = Path(__file__).resolve().parents[1] / "datasette_plugins"
# The metadata that ships with the code; a data directory may carry its own.
DEFAULT_METADATA = Path(__file__).resolve().parents[2] / "data" / "metadata.yml"


def datasette_args(db: Path, metadata: Path, host: str = "127.0.0.1", port: int = 8001) -> list[str]:
    """The ``datasette serve`` command line for an archive (also used by the tests)."""
    args = [sys.executable, "-m", "datasette", "serve", str(db), "--plugins-dir", str(PLUGINS_DIR),
            "-h", host, "-p", str(port), "--setting", "default_page_size", "50"]
    if metadata.exists():
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
        db = ArchiveSettings.from_settings(self.settings).db_path
        if not db.exists():
            print(f"no archive at {db}: run a crawl first")
            self.exitcode = 1
            return
        metadata = Path(self.settings.get("FINEWS_DATA_DIR")) / "metadata.yml"
        if not metadata.exists():
            metadata = DEFAULT_METADATA
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PLUGINS_DIR.parents[1]), os.environ.get("PYTHONPATH")])))
        self.exitcode = subprocess.call(datasette_args(db, metadata, opts.host, opts.port), env=env)
