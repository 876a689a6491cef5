"""The archive's marker: set by the migration (also on archives of older versions), read
through SQLite (WAL included), and the only thing the Datasette plugin goes by."""

import json
import sqlite3
import subprocess
import sys

from finews_spider.archive.database import ArchiveDatabase
from finews_spider.schema import APPLICATION_ID, is_archive, is_archive_file


def test_a_new_archive_carries_the_marker(tmp_path):
    db = ArchiveDatabase(tmp_path / "finews.db")
    assert is_archive(db.conn)
    assert is_archive_file(tmp_path / "finews.db")  # while open, in WAL mode
    db.close()
    assert is_archive_file(tmp_path / "finews.db")


def test_an_archive_of_an_older_version_is_marked_when_opened(tmp_path):
    db = ArchiveDatabase(tmp_path / "finews.db")
    db.conn.execute("PRAGMA application_id = 0")
    db.conn.execute("PRAGMA user_version = 3")
    db.close()
    assert not is_archive_file(tmp_path / "finews.db")
    ArchiveDatabase(tmp_path / "finews.db").close()
    assert is_archive_file(tmp_path / "finews.db")


def test_other_files_are_not_archives(tmp_path):
    assert not is_archive_file(tmp_path / "missing.db")
    (tmp_path / "text.db").write_text("not sqlite")
    assert not is_archive_file(tmp_path / "text.db")
    conn = sqlite3.connect(tmp_path / "plain.db")
    conn.execute("CREATE TABLE articles (x)")
    conn.commit()
    assert not is_archive(conn) and not is_archive_file(tmp_path / "plain.db")
    conn.close()
    assert APPLICATION_ID == 0x46694E77


def test_the_plugin_goes_by_the_marker_not_the_schema(replayed_archive, tmp_path):
    """The archive's own schema and file name without the marker: Datasette as without the plugin."""
    path = tmp_path / "finews.db"
    source, target = sqlite3.connect(replayed_archive / "finews.db"), sqlite3.connect(path)
    source.backup(target)
    target.execute("PRAGMA application_id = 0")
    target.commit()
    source.close(), target.close()
    result = subprocess.run(
        [sys.executable, "-m", "datasette", str(path), "--get", "/finews.json?sql=select+finews_match('x')"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "no such function: finews_match" in json.loads(result.stdout)["error"]
