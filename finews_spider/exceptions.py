"""The project's exceptions. Those that stop a run before it starts map to an exit status
(``commands/crawl.py``: ``NOT_STARTED``)."""

import sqlite3


class LockHeld(RuntimeError):
    """Another run of this spider holds the data directory's lock (exit 75)."""


class SpiderArgumentError(ValueError):
    """A spider argument (``-a``) that cannot be used (exit 2)."""


class SettingsError(ValueError):
    """A ``FINEWS_*`` setting with a value that cannot be used (exit 2)."""


class ArchiveUnusable(RuntimeError):
    """The archive cannot be opened (a damaged database, an unwritable folder): the run
    ends at once (exit 1) with one line naming the file and the way back."""


class FleetUnreachable(RuntimeError):
    """The fleet's Redis server (``FINEWS_REDIS_URL``) cannot be used: a worker does not start."""


class ArchiveDamaged(sqlite3.DatabaseError):
    """The database file is not a readable SQLite archive (truncated, overwritten)."""


class OutputRefused(ValueError):
    """An output a command must not write: the archive's own files, a folder, a FIFO…
    (``files.output_kind`` says why); the command exits 2 with that one line."""
