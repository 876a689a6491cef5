"""``scrapy serve``: browse the archive with Datasette, read-only, on localhost.

The command *becomes* Datasette (``os.execv``): there is no child process, so whatever
stops the command (Ctrl-C, ``kill``, systemd) stops the server and frees its port, and
Ctrl-C ends it with Datasette's own clean shutdown, not a traceback. Before that it checks
the settings, that the port is free (one clear line and exit 1 when it is not), and serves
an archive it cannot write to (a read-only file, folder or file system) in Datasette's
immutable mode, which opens the file without a lock, a journal or WAL files.

The Datasette plugin comes with the installed package (entry point ``datasette``), so
this is plain ``datasette serve`` of the archive.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from importlib.metadata import entry_points
from pathlib import Path

from scrapy.commands import ScrapyCommand

from ..config import FinewsConfig
from ..run import EXIT_USAGE
from .crawl import settings_refused

PLUGIN_MODULE = "finews_spider.datasette_plugin"
# The metadata that ships with the code; a data directory may carry its own.
DEFAULT_METADATA = Path(__file__).resolve().parents[2] / "data" / "metadata.yml"
EXIT_FAILED = 1


def plugin_installed() -> bool:
    """True if Datasette will load the finews plugin (the package is installed)."""
    return any(ep.value == PLUGIN_MODULE for ep in entry_points(group="datasette"))


def datasette_args(
    db: Path, metadata: Path | None = None, host: str = "127.0.0.1", port: int = 8001, immutable: bool = False
) -> list[str]:
    """The ``datasette serve`` command line for an archive (also used by the tests);
    ``immutable`` serves it with ``-i`` (see :func:`needs_immutable`)."""
    database = ["-i", str(db)] if immutable else [str(db)]
    args = [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        *database,
        "-h",
        host,
        "-p",
        str(port),
        "--setting",
        "default_page_size",
        "50",
    ]
    if metadata is not None and metadata.exists():
        args += ["--metadata", str(metadata)]
    return args


def needs_immutable(db: Path) -> bool:
    """Whether the archive must be opened in Datasette's immutable mode: SQLite needs to
    write next to a database even to read it (the ``-shm`` file of a WAL database, a
    lock), so a file or folder this process cannot write to, or a read-only file system
    (``access(2)`` says ``EROFS`` then, also to root), can only be served immutable."""
    folder = db.parent if str(db.parent) else Path(".")
    return not os.access(db, os.W_OK) or not os.access(folder, os.W_OK)


def port_in_use(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (bound as uvicorn binds it, with
    ``SO_REUSEADDR``), or ``None`` when it is free."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"address {host!r} cannot be resolved ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use (another scrapy serve?); choose another with --port"
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False  # never crawls: no reactor, no engine

    def syntax(self):
        return "[options]"

    def short_desc(self):
        return "Serve the SQLite archive with Datasette (read-only, localhost)"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--port", type=int, default=8001, help="port (default 8001)")
        parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")

    def run(self, args, opts):
        if settings_refused(self.settings):
            self.exitcode = EXIT_USAGE
            return
        config = FinewsConfig.from_settings(self.settings)
        db = config.database_path
        if not db.exists():
            print(f"no archive at {db}: run a crawl first", file=sys.stderr)
            self.exitcode = EXIT_FAILED
            return
        busy = port_in_use(opts.host, opts.port)
        if busy:
            print(f"scrapy serve: {busy}", file=sys.stderr)
            self.exitcode = EXIT_FAILED
            return
        metadata = config.data_dir / "metadata.yml"
        if not metadata.exists():
            metadata = DEFAULT_METADATA
        immutable = needs_immutable(db)
        if immutable:
            print(f"{db} is not writable here: serving it immutable (datasette -i)", file=sys.stderr)
        if not plugin_installed():
            print(
                "scrapy serve: the finews Datasette plugin is not installed: pip install -e . (in the project folder)",
                file=sys.stderr,
            )
            self.exitcode = EXIT_FAILED
            return
        args = datasette_args(db, metadata, opts.host, opts.port, immutable)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(args[0], args)  # this process becomes the server: nothing is left behind
