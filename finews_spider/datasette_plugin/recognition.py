"""Which databases of a Datasette are finews archives.

A database is an archive when it carries the marker the archive sets (``PRAGMA
application_id``, see finews_spider/schema.py), whatever its file name; every other
database is left alone by the plugin.
"""

from __future__ import annotations

import os

from finews_spider.schema import is_archive_file

# Per database name: (path, True) for an archive; (path, mtime, False) otherwise, so a
# file that becomes an archive while Datasette runs is noticed.
_recognized: dict[str, tuple] = {}


def database_is_archive(datasette, name: str | None) -> bool:
    """True if the database ``name`` of this Datasette carries the finews marker (cached
    per database; a file that is not an archive is looked at again when it changes)."""
    db = datasette.databases.get(name) if name is not None else None
    path = getattr(db, "path", None)
    if name is None or db is None or path is None or getattr(db, "is_memory", False):
        return False
    cached = _recognized.get(name)
    if cached and cached[0] == path and cached[-1]:
        return True
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return False
    if cached and cached[0] == path and cached[1] == mtime:
        return False
    found = is_archive_file(path)
    _recognized[name] = (path, True) if found else (path, mtime, False)
    return found


def archive_names(datasette) -> tuple[str, ...]:
    """The names of this Datasette's archive databases, in its order."""
    return tuple(name for name in list(datasette.databases) if database_is_archive(datasette, name))
