"""What marks a SQLite file as a finews archive.

The archive sets ``PRAGMA application_id`` (four bytes of the database header, meant for
exactly this) to :data:`APPLICATION_ID`; the Datasette plugin recognizes archives by it,
whatever the file is called, and leaves every other database alone.
"""

from __future__ import annotations

import sqlite3
from urllib.request import pathname2url

APPLICATION_ID = 0x46694E77  # "FiNw"


def is_archive(conn: sqlite3.Connection) -> bool:
    """True if ``conn``'s main database carries the finews marker."""
    try:
        return conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    except sqlite3.DatabaseError:
        return False


def is_archive_file(path: str) -> bool:
    """True if the SQLite file at ``path`` carries the finews marker. Opened read-only
    through SQLite (not by reading the header bytes: in WAL mode a new marker may still
    be in the write-ahead log); a missing or non-SQLite file is not an archive."""
    try:
        conn = sqlite3.connect(f"file:{pathname2url(str(path))}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        return is_archive(conn)
    finally:
        conn.close()
