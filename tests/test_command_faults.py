"""The command fault matrix: every command (crawl, import, reextract, export, search, site,
serve, writer) × every fault that applies to it, as the crawl's fault matrix does for
runs. Each row runs the real command in a subprocess on a copy of the quick start's
archive and checks

- its exit status and the one line that says why (no traceback, ever);
- that nothing outside the command's own output changed: the archive's files (the
  database byte for byte, the posts, the WARCs) for every command that only reads it,
  and a user's files beside the output for every command;
- where the fault leaves the archive short, that a following clean run completes it.

Full disks are small tmpfs mounts (real ENOSPC) and read-only targets read-only mounts;
a machine where the tests cannot mount skips those rows (CI runs as root and can).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_WARC, TEST_SETTINGS, rows

PYTHON = [sys.executable, "-m", "scrapy"]


def run(*args: str, data: Path, settings: dict | None = None, shell_tail: str = "", timeout: float = 120, **kw):
    """``scrapy ARGS`` on the archive in ``data`` (``shell_tail``: piped or redirected, as a user would)."""
    cmd = [*PYTHON, *args, "-s", f"FINEWS_DATA_DIR={data}"]
    for key, value in {**TEST_SETTINGS, **(settings or {})}.items():
        cmd += ["-s", f"{key}={value}"]
    if shell_tail:
        line = " ".join(map(_quote, cmd)) + " " + shell_tail
        return subprocess.run(
            ["bash", "-o", "pipefail", "-c", line], cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kw
        )
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kw)


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder``: relative path -> sha256 of its bytes (and a link's
    target). SQLite's working files are no content: a reader of a WAL database makes its
    ``-shm`` (left out here) and an empty ``-wal`` (left out while empty)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if rel.endswith("-shm") or (rel.endswith("-wal") and path.stat().st_size == 0):
            continue
        if path.is_symlink():
            out[rel] = f"-> {os.readlink(path)}"
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def one_line(stderr: str) -> str:
    """The one line a refused command prints (and no traceback)."""
    assert "Traceback" not in stderr, stderr[-2000:]
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, stderr[-2000:]
    return lines[0]


@contextmanager
def mounted(size: str = "64k", readonly: bool = False):
    """A small tmpfs (``size``), read-only if asked; skips the row where it cannot mount."""
    point = Path(f"/tmp/finews-mnt-{os.getpid()}-{time.monotonic_ns()}")
    point.mkdir()
    options = f"size={size}" + (",ro" if readonly else "")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
    if made.returncode != 0:
        point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)
        point.rmdir()


@dataclass
class Case:
    root: Path
    data: Path  # a copy of the quick start's archive
    user: Path  # a user's folder beside the outputs, which no command may touch

    def __post_init__(self):
        self.user.mkdir()
        (self.user / "notes.txt").write_text("mine\n")
        (self.user / "index.html").write_text("<p>my page</p>\n")
        self.before = (snapshot(self.data), snapshot(self.user))

    def unchanged(self, data: bool = True) -> None:
        """Nothing outside the command's output changed: the user's files, and (``data``)
        the archive."""
        assert snapshot(self.user) == self.before[1]
        if data:
            assert snapshot(self.data) == self.before[0]


@dataclass
class Row:
    name: str
    fault: Callable[[Case], None]  # runs the command and checks what it must


def posts_of(data: Path) -> dict[str, str]:
    return snapshot(data / "_posts")


def posts_of_snapshot(before: dict[str, str]) -> dict[str, str]:
    return {k.removeprefix("_posts/"): v for k, v in before.items() if k.startswith("_posts/")}


def articles(data: Path) -> set[str]:
    return {r["info_code"] for r in rows(data / "finews.db", "SELECT info_code FROM articles")}


# -- export ------------------------------------------------------------------------------------
def export_refused(target: Callable[[Case], Path], says: str) -> Callable[[Case], None]:
    def fault(c: Case) -> None:
        result = run("export", str(target(c)), "--format", "jsonl", data=c.data)
        assert result.returncode == 2 and says in one_line(result.stderr), result.stderr[-2000:]
        c.unchanged()

    return fault


def export_to_a_link_to_the_archive(c: Case) -> None:
    (c.root / "link.jsonl").symlink_to(c.data / "finews.db")
    export_refused(lambda c: c.root / "link.jsonl", "is the archive's own")(c)
    assert (c.root / "link.jsonl").is_symlink()


def export_to_a_fifo(c: Case) -> None:
    os.mkfifo(c.root / "pipe")
    export_refused(lambda c: c.root / "pipe", "is a FIFO")(c)


def export_to_a_full_device(c: Case) -> None:
    result = run("export", "/dev/full", "--format", "csv", data=c.data)
    assert result.returncode == 2 and "No space left on device" in one_line(result.stderr)
    c.unchanged()


def export_to_a_character_device(c: Case) -> None:
    result = run("export", "/dev/null", "--format", "csv", data=c.data)
    assert result.returncode == 0 and "34 articles written to /dev/null" in result.stderr
    assert Path("/dev/null").is_char_device()
    c.unchanged()


def export_to_a_full_disk(c: Case) -> None:
    with mounted("16k") as disk:
        result = run("export", str(disk / "all.jsonl"), data=c.data)
        assert result.returncode == 2 and "No space left on device" in one_line(result.stderr)
        assert os.listdir(disk) == []  # no half-written export, no temporary file
    c.unchanged()


def export_to_a_read_only_folder(c: Case) -> None:
    with mounted(readonly=True) as folder:
        result = run("export", str(folder / "all.jsonl"), data=c.data)
        assert result.returncode == 2 and "Read-only file system" in one_line(result.stderr)
    c.unchanged()


def export_through_a_link_to_a_users_file(c: Case) -> None:
    target = c.root / "exports" / "all.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    (c.root / "latest.csv").symlink_to(target)
    result = run("export", str(c.root / "latest.csv"), data=c.data)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (c.root / "latest.csv").is_symlink() and target.read_text("utf-8").startswith("info_code,")
    c.unchanged()


def export_into_a_closed_pipe(c: Case) -> None:
    result = run("export", "-", data=c.data, shell_tail="| head -c 10 > /dev/null")
    assert result.returncode == 0 and "Traceback" not in result.stderr and "Broken pipe" not in result.stderr
    c.unchanged()


def export_of_a_damaged_archive(c: Case) -> None:
    (c.data / "finews.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 4000)
    for name in ("finews.db-wal", "finews.db-shm"):
        (c.data / name).unlink(missing_ok=True)
    c.before = (snapshot(c.data), c.before[1])
    result = run("export", str(c.root / "out.jsonl"), data=c.data)
    assert result.returncode == 2 and "is not a readable finews archive" in one_line(result.stderr)
    assert not (c.root / "out.jsonl").exists()
    c.unchanged()


# -- search ------------------------------------------------------------------------------------
def search_into_a_closed_pipe(c: Case) -> None:
    result = run("search", "发展", "--json", data=c.data, shell_tail="| head -1 > /dev/null")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    c.unchanged()


def search_to_a_full_device(c: Case) -> None:
    result = run("search", "发展", data=c.data, shell_tail="> /dev/full")
    assert result.returncode == 2
    assert "No space left on device" in [line for line in result.stderr.splitlines() if "cannot write" in line][0]
    assert "Traceback" not in result.stderr
    c.unchanged()


def search_usage(args: list[str], says: str) -> Callable[[Case], None]:
    def fault(c: Case) -> None:
        result = run("search", *args, data=c.data)
        assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr
        c.unchanged()

    return fault


def search_outside_the_syntax(c: Case) -> None:
    result = run("search", "NEAR(国寿", "十四五)", data=c.data)
    assert result.returncode == 2 and "NEAR is not supported" in one_line(result.stderr)
    c.unchanged()


# -- site --------------------------------------------------------------------------------------
def site_refused(target: Callable[[Case], Path], says: str) -> Callable[[Case], None]:
    def fault(c: Case) -> None:
        result = run("site", str(target(c)), data=c.data)
        assert result.returncode == 2 and says in one_line(result.stderr), result.stderr[-2000:]
        c.unchanged()

    return fault


def site_over_a_users_files(c: Case) -> None:
    result = run("site", str(c.user), data=c.data)
    assert result.returncode == 2 and f"{c.user / 'index.html'} was not written by scrapy site" in one_line(
        result.stderr
    )
    c.unchanged(data=True)
    (c.user / "index.html").unlink()  # the user moves it away: the site builds beside the note
    result = run("site", str(c.user), data=c.data)
    assert result.returncode == 0 and (c.user / "notes.txt").read_text() == "mine\n"


def site_on_a_full_disk(c: Case) -> None:
    with mounted("64k") as disk:
        result = run("site", str(disk / "site"), data=c.data)
        assert result.returncode == 1 and "No space left on device" in one_line(result.stderr)
        assert not [p for p in (disk / "site").rglob(".*.tmp")]  # no temporary file left behind
    c.unchanged()


def site_on_a_read_only_disk(c: Case) -> None:
    with mounted(readonly=True) as disk:
        result = run("site", str(disk), data=c.data)
        assert result.returncode == 1 and "Read-only file system" in one_line(result.stderr)
    c.unchanged()


# -- crawl, import, reextract ------------------------------------------------------------------
def crawl_with_a_misspelt_argument(c: Case) -> None:
    result = run("crawl", "finews", "-a", "sinse=2021-12-01", data=c.data, settings={"FINEWS_REPLAY": str(SAMPLE_WARC)})
    assert result.returncode == 2 and "did you mean since?" in result.stderr
    assert "Traceback" not in result.stderr
    c.unchanged(data=False)


def crawl_logging_into_a_missing_folder(c: Case) -> None:
    log = c.root / "logs" / "finews.log"
    result = run("crawl", "finews", data=c.data, settings={"FINEWS_REPLAY": str(SAMPLE_WARC), "LOG_FILE": str(log)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "run summary: spider=finews status=ok" in log.read_text("utf-8")
    c.unchanged(data=False)


def crawl_with_the_site_in_the_data_folder(c: Case) -> None:
    result = run("crawl", "finews", data=c.data, settings={"FINEWS_SITE_DIR": str(c.data)})
    assert result.returncode == 2 and "FINEWS_SITE_DIR=" in result.stderr and "is the archive's own" in result.stderr
    assert rows(c.data / "finews.db", "SELECT status FROM crawls ORDER BY id DESC LIMIT 1") == [{"status": "usage"}]
    assert posts_of(c.data) == posts_of_snapshot(c.before[0])
    c.unchanged(data=False)  # only its crawls row was added


def crawl_after_a_full_disk_was_freed(c: Case) -> None:
    """The database's header counts pages still only in its write-ahead log (a checkpoint
    cut short by a full disk): the next run opens it and completes the archive (every
    run refused it as "truncated", and the advice was to rebuild it)."""
    db = c.data / "finews.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("DELETE FROM articles WHERE info_code IN (SELECT info_code FROM articles ORDER BY info_code LIMIT 5)")
    conn.execute("CREATE TABLE ballast (x TEXT)")  # the database grows: its new pages are in the WAL only
    conn.executemany("INSERT INTO ballast VALUES (?)", [("x" * 3000,) for _ in range(600)])
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    shutil.copy(db, c.root / "db-file")
    shutil.copy(f"{db}-wal", c.root / "db-wal")  # the files as the run left them, the WAL not checkpointed
    conn.close()
    shutil.copy(c.root / "db-file", db)
    shutil.copy(c.root / "db-wal", f"{db}-wal")
    Path(f"{db}-shm").unlink(missing_ok=True)
    with open(db, "r+b") as f:  # the header already counts every page, as the cut checkpoint wrote it
        f.seek(28)
        f.write(pages.to_bytes(4, "big"))
    assert db.stat().st_size < pages * 4096
    result = run("crawl", "finews", data=c.data, settings={"FINEWS_REPLAY": str(SAMPLE_WARC)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(articles(c.data)) == 34


def import_of_odd_files(c: Case) -> None:
    old = c.root / "old"
    old.mkdir()
    os.mkfifo(old / "2021-12-23-NW202112232223130001.md")
    (old / "2021-12-23-NW202112232223130002.md").write_text("---\na: &a [x,x]\nb: [*a,*a]\n---\n")
    from tests.test_import import old_post

    code = "NW202112232223130003"
    (old / f"2021-12-23-{code}.md").write_bytes(
        old_post("山西晚报", "shanxiwanbao", code, date="9999-12-31 23:00:00 -1000")
    )
    result = run("import", str(old), data=c.data, timeout=60)
    assert result.returncode == 1 and "nothing imported: no file could be read as a post" in result.stderr
    for says in ("not a regular file", "YAML anchors or aliases", "date '9999-12-31 23:00:00 -1000' is out of range"):
        assert says in result.stderr
    assert rows(c.data / "finews.db", "SELECT status FROM crawls ORDER BY id DESC LIMIT 1") == [{"status": "failed"}]


def import_while_the_archive_is_locked(c: Case) -> None:
    from finews_spider.archive.lock import RunLock

    held = RunLock(c.data / ".locks" / "finews.lock", "finews")  # as a running `scrapy crawl finews` holds it
    try:
        result = run("import", str(c.data / "_posts"), data=c.data)
        assert result.returncode == 75 and "holds" in one_line(result.stderr)
    finally:
        held.release()
    assert posts_of(c.data) == posts_of_snapshot(c.before[0])
    c.unchanged(data=False)


def reextract_of_a_damaged_warc(c: Case) -> None:
    from tests.test_warc import _damaged_copy

    copy, code = _damaged_copy(c.root)
    result = run("reextract", str(copy), "--workers", "1", data=c.data)
    assert result.returncode == 1 and "damaged WARC record(s) could not be replayed" in result.stderr
    assert "Traceback" not in result.stderr
    clean = run("reextract", str(SAMPLE_WARC), "--workers", "1", data=c.data)  # the undamaged copy
    assert clean.returncode == 0 and len(articles(c.data)) == 34


def reextract_of_nothing(c: Case) -> None:
    result = run("reextract", str(c.root / "no-such.warc.gz"), data=c.data)
    assert result.returncode == 2 and "no WARC file or folder" in result.stderr
    c.unchanged()


# -- serve, writer -----------------------------------------------------------------------------
def serve_to_every_interface(c: Case) -> None:
    result = run("serve", "--host", "0.0.0.0", data=c.data)
    assert result.returncode == 2 and "add --public to mean it" in one_line(result.stderr)
    c.unchanged()


def serve_without_an_archive(c: Case) -> None:
    result = run("serve", data=c.root / "empty")
    assert result.returncode == 1 and "no archive at" in one_line(result.stderr)
    assert not (c.root / "empty").exists()  # nothing made where nothing was


def writer_without_its_redis(c: Case) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    started = time.monotonic()
    result = run("writer", "--drain", data=c.data, settings={"FINEWS_REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    assert result.returncode == 1 and "status=failed" in result.stderr, result.stderr[-2000:]
    assert time.monotonic() - started < 60
    assert rows(c.data / "finews.db", "SELECT status FROM crawls ORDER BY id DESC LIMIT 1") == [{"status": "failed"}]


MATRIX = [
    Row("export over the database", export_refused(lambda c: c.data / "finews.db", "is the archive's own")),
    Row("export over the WAL", export_refused(lambda c: c.data / "finews.db-wal", "is the archive's own")),
    Row("export over a post", export_refused(lambda c: next((c.data / "_posts").iterdir()), "is the archive's own")),
    Row("export over the data folder", export_refused(lambda c: c.data, "is the archive's own")),
    Row("export through a link to the archive", export_to_a_link_to_the_archive),
    Row("export over a folder", export_refused(lambda c: c.user, "is a folder")),
    Row("export into a missing folder", export_refused(lambda c: c.root / "nowhere" / "x.jsonl", "no such folder")),
    Row("export over a FIFO", export_to_a_fifo),
    Row("export to a full device", export_to_a_full_device),
    Row("export to a character device", export_to_a_character_device),
    Row("export to a full disk", export_to_a_full_disk),
    Row("export to a read-only folder", export_to_a_read_only_folder),
    Row("export through a link to a user's file", export_through_a_link_to_a_users_file),
    Row("export into a closed pipe", export_into_a_closed_pipe),
    Row("export of a damaged archive", export_of_a_damaged_archive),
    Row("search into a closed pipe", search_into_a_closed_pipe),
    Row("search to a full device", search_to_a_full_device),
    Row(
        "search with a date not YYYY-MM-DD", search_usage(["--since", "20211201", "发展"], "accepts a date YYYY-MM-DD")
    ),
    Row(
        "search since after until", search_usage(["--since", "2021-12-24", "--until", "2021-12-01", "发展"], "is after")
    ),
    Row("search outside the syntax", search_outside_the_syntax),
    Row("site into the data folder", site_refused(lambda c: c.data, "is the archive's own")),
    Row("site into /", site_refused(lambda c: Path("/"), "is /")),
    Row("site into the home folder", site_refused(lambda c: Path.home(), "is the home folder")),
    Row("site over a user's files", site_over_a_users_files),
    Row("site on a full disk", site_on_a_full_disk),
    Row("site on a read-only disk", site_on_a_read_only_disk),
    Row("crawl with a misspelt argument", crawl_with_a_misspelt_argument),
    Row("crawl logging into a missing folder", crawl_logging_into_a_missing_folder),
    Row("crawl with the site in the data folder", crawl_with_the_site_in_the_data_folder),
    Row("crawl after a full disk was freed", crawl_after_a_full_disk_was_freed),
    Row("import of odd files", import_of_odd_files),
    Row("import while the archive is locked", import_while_the_archive_is_locked),
    Row("reextract of a damaged WARC", reextract_of_a_damaged_warc),
    Row("reextract of nothing", reextract_of_nothing),
    Row("serve to every interface", serve_to_every_interface),
    Row("serve without an archive", serve_without_an_archive),
    Row("writer without its Redis", writer_without_its_redis),
]


@pytest.mark.parametrize("row", MATRIX, ids=[r.name for r in MATRIX])
def test_command_fault(row: Row, replayed_archive, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(replayed_archive, data, ignore=shutil.ignore_patterns(".locks"))
    row.fault(Case(tmp_path, data, tmp_path / "user"))


def test_the_matrix_covers_every_command():
    covered = {r.name.split()[0] for r in MATRIX}
    assert covered == {"crawl", "import", "reextract", "export", "search", "site", "serve", "writer"}
