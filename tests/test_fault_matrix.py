"""The fault matrix (issue 14): one row per fault, each with the exit status, the summary
status word and the ``crawls`` row it must give, and the archive after the next clean run,
which must equal a clean crawl's (posts byte for byte; articles and newspapers rows apart
from the columns that record when).

Every run of every row goes through :func:`verdict`, which checks the one rule: the exit
status, the summary line and the ``crawls`` row agree, and no run exits 0 while it failed.
"""

from __future__ import annotations

import copy
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from finews_spider.run import parse_summary, run_figures
from tests.conftest import ROOT, SAMPLE_UPSTREAM, TEST_SETTINGS, crawl, jekyll_build, posts, rows, sample_records
from tests.test_unattended import archive_state, wait_for
from tests.upstream_server import Upstream

EXITS = {"ok": {0}, "failed": {1, 130}, "usage": {2}, "locked": {75}}
CODES = [r["infoCode"] for r in sample_records()]


# -- the one rule ----------------------------------------------------------------------------
@dataclass
class Verdict:
    exit: int
    status: str
    reason: str
    figures: dict
    crawl: dict | None  # the crawls row this run added


def crawl_rows(data: Path) -> list[dict]:
    """The ``crawls`` rows of the archive in ``data`` (none without a usable database)."""
    try:
        return rows(data / "finews.db", "SELECT * FROM crawls ORDER BY id")
    except sqlite3.Error:
        return []


def verdict(exit_status: int, stderr: str, data: Path, crawls_before: int) -> Verdict:
    """The verdict of one run, after asserting that its exit status, its one summary line
    and its ``crawls`` row (if it added one) agree."""
    lines = [line for line in stderr.splitlines() if "run summary:" in line]
    assert len(lines) == 1, f"expected one summary line, got {lines!r}\n{stderr[-3000:]}"
    status = re.search(r" status=(\w+) ", lines[0])[1]
    reason = re.search(r""" reason=(['"])(.*)\1$""", lines[0])
    figures = parse_summary(lines[0])
    assert figures is not None, lines[0]
    assert exit_status in EXITS[status], f"exit {exit_status} with status={status}: {lines[0]}"
    after = crawl_rows(data)
    added = after[crawls_before:]
    assert len(added) <= 1, added
    row = added[0] if added else None
    if row is not None:
        assert row["status"] == status, (row, lines[0])
        assert {k: row[k] for k in run_figures({})} == figures, (row, lines[0])
    return Verdict(exit_status, status, reason[2] if reason else "", figures, row)


# -- a data folder, an upstream, and the runs of one row ------------------------------------
@dataclass
class Case:
    root: Path
    upstream: Upstream
    data: Path
    reference: Path
    results: list[Verdict] = field(default_factory=list)
    stderr: str = ""

    def settings(self, down: bool = False, **extra) -> dict:
        urls = (
            {k: re.sub(r":\d+/", f":{closed_port()}/", v) for k, v in self.upstream.settings().items()}
            if down
            else self.upstream.settings()
        )
        return {**urls, **extra}

    def run(
        self,
        *args: str,
        down: bool = False,
        data: Path | None = None,
        popen: dict | None = None,
        spider: str = "finews",
        **settings,
    ) -> Verdict:
        """One ``scrapy crawl`` whose verdict is checked; returns it."""
        data = data or self.data
        before = len(crawl_rows(data))
        result = crawl(spider, data, None, *args, settings=self.settings(down, **settings), **(popen or {}))
        self.stderr = result.stderr
        v = verdict(result.returncode, result.stderr, data, before)
        self.results.append(v)
        return v

    def start(self, *args: str, spider: str = "finews", **settings) -> tuple[subprocess.Popen, int]:
        """A ``scrapy crawl`` in the background, and the number of crawls rows before it."""
        cmd = [sys.executable, "-m", "scrapy", "crawl", spider, *args, "-s", f"FINEWS_DATA_DIR={self.data}"]
        merged = {**TEST_SETTINGS, **self.settings(), "CONCURRENT_REQUESTS_PER_DOMAIN": "1", **settings}
        for key, value in merged.items():
            cmd += ["-s", f"{key}={value}"]
        before = len(crawl_rows(self.data))
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), before

    def finish(self, proc: subprocess.Popen, before: int, data: Path | None = None) -> Verdict:
        _, err = proc.communicate(timeout=120)
        self.stderr = err
        v = verdict(proc.returncode, err, data or self.data, before)
        self.results.append(v)
        return v

    def archived(self) -> None:
        """Start from a copy of the clean reference archive."""
        shutil.rmtree(self.data, ignore_errors=True)
        shutil.copytree(self.reference, self.data)

    def posts_written(self) -> int:
        folder = self.data / "_posts"
        return len(list(folder.glob("*.md"))) if folder.is_dir() else 0


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the faults -----------------------------------------------------------------------------
def f_clean(c: Case) -> Verdict:
    return c.run()


def f_articles_dropped(c: Case) -> Verdict:
    c.archived()
    with sqlite3.connect(c.data / "finews.db") as conn:
        conn.execute("DROP TABLE articles")
    v = c.run()
    assert "lacked articles: created again" in c.stderr
    assert v.figures["articles_new"] == 34  # this run completes the archive
    return v


def f_db_garbage(c: Case) -> Verdict:
    c.archived()
    (c.data / "finews.db").write_bytes(os.urandom(64 * 1024))
    return c.run()


def f_db_truncated(c: Case) -> Verdict:
    c.archived()
    db = c.data / "finews.db"
    os.truncate(db, db.stat().st_size // 2)
    return c.run()


def says_way_back(c: Case, v: Verdict) -> None:
    assert "cannot be used" in c.stderr and "finews.db" in v.reason and "scrapy reextract" in v.reason


def rebuild_from_warc(c: Case) -> None:
    """The way back the failed run names: move the database aside, rebuild it from the WARCs."""
    (c.data / "finews.db").rename(c.data / "finews.db.damaged")
    for extra in ("finews.db-wal", "finews.db-shm"):
        (c.data / extra).unlink(missing_ok=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "reextract",
            str(c.data / "warc"),
            "--workers",
            "1",
            "-s",
            f"FINEWS_DATA_DIR={c.data}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def f_wal_deleted(c: Case) -> Verdict:
    """A run killed with rows in the WAL, then the WAL and SHM deleted (rows lost, posts kept)."""
    c.upstream.delay = 0.05
    proc, _ = c.start(FINEWS_SQLITE_BATCH_SIZE="3")
    assert wait_for(lambda: c.posts_written() >= 9)
    proc.kill()
    proc.communicate(timeout=30)
    c.upstream.delay = 0
    assert (c.data / "finews.db-wal").exists()
    (c.data / "finews.db-wal").unlink()
    (c.data / "finews.db-shm").unlink(missing_ok=True)
    return c.run()


def f_post_deleted(c: Case) -> Verdict:
    c.archived()
    victim = sorted((c.data / "_posts").glob("*.md"))[3]
    victim.unlink()
    v = c.run()
    assert victim.exists(), "the run must write the missing post again"
    return v


def f_data_removed_mid_run(c: Case) -> Verdict:
    c.upstream.delay = 0.1
    proc, before = c.start(FINEWS_SQLITE_BATCH_SIZE="2")
    assert wait_for(lambda: c.posts_written() >= 4)
    c.data.rename(c.root / "removed")  # what the run sees of `rm -r`, without racing its writes
    shutil.rmtree(c.root / "removed")
    v = c.finish(proc, 0)
    c.upstream.delay = 0
    return v


def f_disk_full(c: Case) -> Verdict:
    """A file-size limit (``ulimit -f``): Python ignores SIGXFSZ, so a write past the limit
    raises EFBIG (errno 27, "File too large") wherever it happens: here the database
    outgrows it part-way through the run."""
    v = c.run(
        FINEWS_WARC_CAPTURE="0",
        FINEWS_SQLITE_BATCH_SIZE="4",
        popen={"preexec_fn": lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (DISK_LIMIT, DISK_LIMIT))},
    )
    assert "disk I/O error" in c.stderr or "File too large" in c.stderr, "the limit was never reached"
    return v


DISK_LIMIT = 160_000  # bytes: the new database opens, and its WAL outgrows this with the first batches


def usage(setting: str, value: str, says: str) -> Callable[[Case], Verdict]:
    def fault(c: Case) -> Verdict:
        c.archived()
        v = c.run(**{setting: value})
        assert says in c.stderr, c.stderr[-2000:]
        assert "Traceback" not in c.stderr
        return v

    fault.__name__ = f"f_usage_{setting}"
    return fault


def down(**settings: str) -> Callable[[Case], Verdict]:
    """A run of the clean archive with the upstream unreachable."""

    def fault(c: Case) -> Verdict:
        c.archived()
        return c.run(down=True, **settings)

    fault.__name__ = "f_down_" + "_".join(settings)
    return fault


def f_refresh_banana(c: Case) -> Verdict:
    c.archived()
    v = c.run("-a", "refresh=banana")
    assert "refresh" in v.reason
    return v


def f_market_types_with_space(c: Case) -> Verdict:
    v = c.run(FINEWS_MARKET_TYPES="37, 38")
    assert sorted(r for r in c.upstream.requests if r.startswith("feed:")) == ["feed:37", "feed:38"]
    return v


def f_jobdir_interrupted(c: Case) -> Verdict:
    job = c.root / "job"
    # The feeds and five texts are answered; the rest wait until the interrupt has arrived,
    # so the run is stopped half-way however fast it goes (with a mere delay on every
    # answer it once finished before the signal came).
    c.upstream.gate, c.upstream.through_gate = threading.Event(), 3 + 5
    proc, before = c.start(JOBDIR=str(job), DOWNLOAD_TIMEOUT="60")
    assert wait_for(lambda: c.posts_written() >= 3)
    proc.send_signal(signal.SIGINT)
    threading.Timer(0.5, c.upstream.gate.set).start()
    first = c.finish(proc, before)
    assert first.status == "failed" and first.exit == 1 and "shutdown" in first.reason, first
    c.upstream.gate = None
    return c.run(JOBDIR=str(job))


def f_jobdir_finished(c: Case) -> Verdict:
    job = c.root / "job"
    assert c.run(JOBDIR=str(job)).status == "ok"
    c.upstream.requests.clear()
    v = c.run(JOBDIR=str(job))
    assert c.upstream.count("feed:") == 3  # the feeds are read on every run
    return v


def f_exporters_nope(c: Case) -> Verdict:
    c.archived()
    return c.run(FINEWS_EXPORTERS="nope")


def no_stale_lock(c: Case, clean: Verdict) -> None:
    assert "taking over the lock" not in c.stderr


def f_replay_missing(c: Case) -> Verdict:
    c.archived()
    return c.run(FINEWS_REPLAY=str(c.root / "nowhere.warc.gz"))


def exporters(which: str) -> Callable[[Case], Verdict]:
    def fault(c: Case) -> Verdict:
        v = c.run(FINEWS_EXPORTERS=which)
        assert v.figures["articles_new"] == 34 and c.upstream.count("text:") == 34
        if "jekyll" in which:
            assert len(posts(c.data)) == 34
        return v

    fault.__name__ = f"f_exporters_{which}"
    return fault


def interrupted(times: int) -> Callable[[Case], Verdict]:
    def fault(c: Case) -> Verdict:
        c.upstream.delay = 0.2
        proc, before = c.start(FINEWS_SQLITE_BATCH_SIZE="2")
        assert wait_for(lambda: c.posts_written() >= 4)
        for _ in range(times):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.05)
        v = c.finish(proc, before)
        assert "shutdown" in v.reason, v
        if v.crawl is not None:  # what was recorded stays: its rows and posts agree
            archived = rows(c.data / "finews.db", "SELECT count(*) AS n FROM articles")[0]["n"]
            assert archived == c.posts_written() > 0
        c.upstream.delay = 0
        return v

    fault.__name__ = f"f_sigint_{times}"
    return fault


def f_records_not_objects(c: Case) -> Verdict:
    feed = c.upstream.feeds["38"]
    key = "record" if "record" in feed else "nodeList"
    feed[key] = [1, "x", None, [2]] + feed[key]
    return c.run()


def f_text_not_object(c: Case) -> Verdict:
    c.upstream.texts[CODES[0]] = [1, 2, 3]
    v = c.run()
    assert "not an object" in c.stderr
    return v


def upstream_fault(action, times: int = 10, target: str = "text") -> Callable[[Case], Verdict]:
    def fault(c: Case) -> Verdict:
        key = f"text:{CODES[5]}" if target == "text" else "feed:37"
        c.upstream.hang_seconds = 3
        c.upstream.faults[key] = [action] * times
        return c.run()

    fault.__name__ = f"f_{action}_{times}_{target}"
    return fault


# "{}" is the record's own name (a trailing newline must not make a second paper).
HOSTILE = ["<script>alert(1)</script>日报", "長" * 300, "{}\n", "../../etc/passwd", "😀"]


def f_hostile_names(c: Case) -> Verdict:
    hostile = dict(zip(CODES[: len(HOSTILE)], HOSTILE))
    original = copy.deepcopy(c.upstream.feeds)
    for feed in c.upstream.feeds.values():
        for record in feed.get("record") or feed.get("nodeList"):
            code = record.get("infoCode") or record.get("infocode")
            if code in hostile:
                key = "medianame" if "medianame" in record or "from" not in record else "from"
                record[key] = hostile[code].format(record[key])
    live = c.root / "live"  # a paper's name corrected upstream is another paper: its own folder
    v = c.run(data=live)
    assert v.figures["articles_dropped"] == 0 and v.figures["articles_new"] == 34  # every article kept
    jekyll_build(live, c.root / "site")
    c.upstream.feeds = original
    again = c.run("-a", "refresh=1", data=live)  # the names corrected: each article moves to its paper
    assert again.status == "ok"
    papers = "SELECT info_code, newspaper, slug FROM articles ORDER BY info_code"
    assert rows(live / "finews.db", papers) == rows(c.reference / "finews.db", papers)
    return v


def f_reextract_after_500(c: Case) -> Verdict:
    live = c.root / "live"
    assert c.run(data=live).status == "ok"
    c.upstream.faults[f"text:{CODES[0]}"] = [500] * 10
    assert c.run("-a", "refresh=1", data=live).status == "failed"
    before = len(crawl_rows(c.data))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "reextract",
            str(live / "warc"),
            "--workers",
            "1",
            "-s",
            f"FINEWS_DATA_DIR={c.data}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    c.stderr = result.stderr
    v = verdict(result.returncode, result.stderr, c.data, before)
    assert posts(c.data) == posts(c.reference)
    return v


def f_second_run_at_once(c: Case) -> Verdict:
    c.upstream.gate = threading.Event()
    proc, before = c.start(DOWNLOAD_TIMEOUT="60")
    lock = c.data / ".locks" / "finews.lock"
    assert wait_for(lambda: lock.exists() and b"pid" in lock.read_bytes() and c.upstream.requests)
    second = c.run()
    c.upstream.gate.set()
    assert c.finish(proc, before).status == "ok"
    return second


def f_stale_lock(c: Case) -> Verdict:
    c.archived()
    lock = c.data / ".locks" / "finews.lock"
    lock.write_text('{"pid": 999999, "host": "old", "started_at": "2021-01-01T00:00:00+00:00"}')
    v = c.run()
    assert "taking over the lock" in c.stderr
    return v


def f_writer_thread_error(c: Case) -> Verdict:
    """An error logged on the archive's writer thread (the reading site cannot be updated:
    its directory is a file) is counted by the verdict."""
    site = c.root / "site-is-a-file"
    site.write_text("not a directory")
    return c.run(FINEWS_SITE_DIR=str(site))


# -- the matrix -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    name: str
    fault: Callable[[Case], Verdict]
    exit: int
    status: str
    crawls: str | None  # the status of the crawls row the run adds, or None: no row
    check: Callable[[Case, Verdict], None] | None = None  # more to say of the faulty run
    recover: Callable[[Case], None] | None = None  # what the operator does before the next run
    after: Callable[[Case, Verdict], None] | None = None  # more to say of the next clean run
    says: str = ""  # in the summary's reason


MATRIX = [
    Row("clean", f_clean, 0, "ok", "ok"),
    Row("articles table dropped", f_articles_dropped, 0, "ok", "ok"),
    Row("database overwritten with garbage", f_db_garbage, 1, "failed", None, says_way_back, rebuild_from_warc),
    Row("database truncated to half", f_db_truncated, 1, "failed", None, says_way_back, rebuild_from_warc),
    Row("WAL and SHM deleted after a killed run", f_wal_deleted, 0, "ok", "ok"),
    Row("a post deleted from _posts", f_post_deleted, 0, "ok", "ok"),
    Row(
        "data folder removed mid-run",
        f_data_removed_mid_run,
        1,
        "failed",
        None,
        says="could not be recorded in the archive",
    ),
    Row("disk full (file-size limit)", f_disk_full, 1, "failed", "failed", says="could not be recorded in the archive"),
    Row(
        "FINEWS_MAX_ERROR_RATIO=abc, upstream down",
        down(FINEWS_MAX_ERROR_RATIO="abc"),
        2,
        "usage",
        "usage",
        says="FINEWS_MAX_ERROR_RATIO='abc': accepts a number from 0 to 1",
    ),
    Row("FINEWS_MARKET_TYPES empty", usage("FINEWS_MARKET_TYPES", "", "FINEWS_MARKET_TYPES"), 2, "usage", "usage"),
    Row("FINEWS_FEED_COUNT=-5", usage("FINEWS_FEED_COUNT", "-5", "accepts a whole number from 1"), 2, "usage", "usage"),
    Row(
        "FINEWS_FEED_COUNT=abc", usage("FINEWS_FEED_COUNT", "abc", "accepts a whole number from 1"), 2, "usage", "usage"
    ),
    Row(
        "FINEWS_SQLITE_BATCH_SIZE=x",
        usage("FINEWS_SQLITE_BATCH_SIZE", "x", "FINEWS_SQLITE_BATCH_SIZE"),
        2,
        "usage",
        "usage",
    ),
    Row("FINEWS_RECHECK_HOURS=-1", usage("FINEWS_RECHECK_HOURS", "-1", "FINEWS_RECHECK_HOURS"), 2, "usage", "usage"),
    Row("misspelt setting", usage("FINEWS_FEED_CONT", "5", "did you mean FINEWS_FEED_COUNT"), 2, "usage", "usage"),
    Row("-a refresh=banana", f_refresh_banana, 2, "usage", "usage"),
    Row("FINEWS_MARKET_TYPES='37, 38'", f_market_types_with_space, 0, "ok", "ok"),
    Row("JOBDIR interrupted once, run again", f_jobdir_interrupted, 0, "ok", "ok"),
    Row("finished JOBDIR run again", f_jobdir_finished, 0, "ok", "ok"),
    Row(
        "FINEWS_EXPORTERS=nope, then a normal run",
        f_exporters_nope,
        2,
        "usage",
        "usage",
        after=no_stale_lock,
        says="unknown exporter 'nope'",
    ),
    Row(
        "missing replay file",
        f_replay_missing,
        2,
        "usage",
        "usage",
        after=no_stale_lock,
        says="names no existing WARC file",
    ),
    Row("FINEWS_EXPORTERS=jekyll into a fresh folder", exporters("jekyll"), 0, "ok", None),
    Row("FINEWS_EXPORTERS=sqlite into a fresh folder", exporters("sqlite"), 0, "ok", "ok"),
    Row("FINEWS_EXPORTERS=jekyll,sqlite into a fresh folder", exporters("jekyll,sqlite"), 0, "ok", "ok"),
    Row("two Ctrl-C", interrupted(2), 130, "failed", "failed", says="run ended early: forced shutdown"),
    Row("one Ctrl-C", interrupted(1), 1, "failed", "failed", says="run ended early: shutdown"),
    Row(
        "feed records that are not objects",
        f_records_not_objects,
        1,
        "failed",
        "failed",
        says="4 of 38 articles failed",
    ),
    Row(
        "text that is JSON but not an object", f_text_not_object, 1, "failed", "failed", says="1 of 34 articles failed"
    ),
    Row("text 500 every time", upstream_fault(500), 1, "failed", "failed", says="1 of 34 articles failed"),
    Row("text 503 once", upstream_fault(503, 1), 0, "ok", "ok"),
    Row(
        "feed 500 every time",
        upstream_fault(500, 10, "feed"),
        1,
        "failed",
        "failed",
        says="1 of 3 feed(s) could not be read",
    ),
    Row("text hangs past the timeout once", upstream_fault("hang", 1), 0, "ok", "ok"),
    Row("text hangs every time", upstream_fault("hang", 3), 1, "failed", "failed", says="1 of 34 articles failed"),
    Row("text connection reset twice", upstream_fault("reset", 2), 0, "ok", "ok"),
    Row("text truncated JSON", upstream_fault("truncate", 1), 1, "failed", "failed", says="1 of 34 articles failed"),
    Row(
        "feed truncated JSON",
        upstream_fault("truncate", 1, "feed"),
        1,
        "failed",
        "failed",
        says="1 of 3 feed(s) could not be read",
    ),
    Row("upstream down", down(RETRY_TIMES="1"), 1, "failed", "failed", says="no feed could be read"),
    Row("hostile newspaper names, then jekyll build", f_hostile_names, 0, "ok", "ok"),
    Row("reextract with a later 500 capture", f_reextract_after_500, 0, "ok", "ok"),
    Row("a second run at once", f_second_run_at_once, 75, "locked", None, says="another 'finews' run holds"),
    Row("lock left by a dead run", f_stale_lock, 0, "ok", "ok"),
    Row("error on the archive's writer thread", f_writer_thread_error, 1, "failed", "failed", says="the reading site"),
]


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> Path:
    """One clean crawl of the sample, the archive every row must come back to."""
    up = Upstream.from_dir(SAMPLE_UPSTREAM).start()
    data = tmp_path_factory.mktemp("reference") / "data"
    try:
        assert crawl("finews", data, up).returncode == 0
    finally:
        up.stop()
    return data


@pytest.fixture(scope="session")
def reference_state(reference):
    return archive_state(reference)


def test_the_matrix_has_every_fault_of_the_issue():
    assert len(MATRIX) >= 30 and len({r.name for r in MATRIX}) == len(MATRIX)


@pytest.mark.parametrize("row", MATRIX, ids=[r.name for r in MATRIX])
def test_fault(row: Row, upstream, tmp_path, reference, reference_state):
    feeds, texts = copy.deepcopy(upstream.feeds), copy.deepcopy(upstream.texts)
    case = Case(tmp_path, upstream, tmp_path / "data", reference)
    v = row.fault(case)
    assert (v.exit, v.status) == (row.exit, row.status), (v, case.stderr[-3000:])
    assert (v.crawl["status"] if v.crawl else None) == row.crawls, (v, case.stderr[-3000:])
    assert row.says in v.reason, v
    if row.check:
        row.check(case, v)
    # The next clean run completes the archive: it equals a clean crawl's.
    upstream.faults.clear()
    upstream.feeds, upstream.texts = feeds, texts
    upstream.delay, upstream.gate = 0, None
    if row.recover:
        row.recover(case)
    clean = case.run()
    assert (clean.exit, clean.status) == (0, "ok"), case.stderr[-3000:]
    if row.after:
        row.after(case, clean)
    assert_same_archive(archive_state(case.data), reference_state)


def assert_same_archive(ours, reference) -> None:
    """Posts byte for byte, then articles and newspapers rows (apart from RUN_COLUMNS)."""
    assert sorted(ours[0]) == sorted(reference[0])
    assert [name for name in reference[0] if ours[0][name] != reference[0][name]] == []
    assert ours[1] == reference[1]
    assert ours[2] == reference[2]
