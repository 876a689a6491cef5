"""Unattended runs: one at a time, and nothing half-written when killed."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import ROOT, TEST_SETTINGS, crawl, posts, rows

pytestmark = pytest.mark.slow  # every test here starts processes (docs/testing.md)

# Columns that depend on when and in which order articles were fetched, not on what.
RUN_COLUMNS = {"fetched_at", "first_seen_at", "last_seen_at", "doc_id"}


def start_crawl(spider, data_dir, upstream, **settings):
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-s", f"FINEWS_DATA_DIR={data_dir}"]
    for key, value in {
        **TEST_SETTINGS,
        **upstream.settings(),
        "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
        **settings,
    }.items():
        cmd += ["-s", f"{key}={value}"]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def archive_state(data_dir):
    articles = [
        {k: v for k, v in r.items() if k not in RUN_COLUMNS}
        for r in rows(data_dir / "finews.db", "SELECT * FROM articles ORDER BY info_code")
    ]
    papers = rows(data_dir / "finews.db", "SELECT * FROM newspapers ORDER BY slug")
    return posts(data_dir), articles, papers


def test_two_runs_at_once_exactly_one_runs(upstream, tmp_path):
    upstream.gate = threading.Event()  # the first run waits on its first answer
    first = start_crawl("shanxiwanbao", tmp_path, upstream, DOWNLOAD_TIMEOUT="60")
    lock = tmp_path / ".locks" / "shanxiwanbao.lock"
    assert wait_for(lambda: lock.exists() and b"pid" in lock.read_bytes() and upstream.requests)
    second = crawl("shanxiwanbao", tmp_path, upstream)
    upstream.gate.set()
    out, err = first.communicate(timeout=60)
    assert second.returncode == 75, second.stderr[-2000:]
    assert f"holds {lock}: pid {first.pid}" in second.stderr
    assert first.returncode == 0, err[-2000:]
    assert sorted(upstream.requests).count("feed:37") == 1  # the second run sent nothing
    assert len(rows(tmp_path / "finews.db", "SELECT * FROM crawls")) == 1
    # Different spiders do not block each other.
    assert crawl("dahebao", tmp_path, upstream).returncode == 0


def test_lock_left_by_a_dead_run_is_taken_over(upstream, tmp_path):
    lock = tmp_path / ".locks" / "shanxiwanbao.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": 999999, "host": "old", "started_at": "2021-01-01T00:00:00+00:00"}))
    result = crawl("shanxiwanbao", tmp_path, upstream)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "taking over the lock of an earlier run" in result.stderr and "999999" in result.stderr
    assert json.loads(lock.read_text() or "{}") == {}  # released at the end


def test_sigkill_mid_run_then_rerun_gives_the_clean_archive(upstream, tmp_path):
    clean_dir, killed_dir = tmp_path / "clean", tmp_path / "killed"
    assert crawl("finews", clean_dir, upstream).returncode == 0

    upstream.delay = 0.05
    run = start_crawl("finews", killed_dir, upstream, FINEWS_SQLITE_BATCH_SIZE="3")
    assert wait_for(
        lambda: len(list((killed_dir / "_posts").glob("*.md"))) >= 5 if (killed_dir / "_posts").exists() else False
    )
    os.kill(run.pid, signal.SIGKILL)
    run.communicate(timeout=30)
    assert run.returncode == -signal.SIGKILL
    written_before = len(posts(killed_dir))
    assert written_before < 34, "the crawl finished before it could be killed"

    upstream.delay = 0
    result = crawl("finews", killed_dir, upstream)
    assert result.returncode == 0, result.stderr[-3000:]
    assert archive_state(killed_dir) == archive_state(clean_dir)
    leftovers = [p for p in killed_dir.rglob("*") if p.name.endswith(".tmp") or p.name.endswith("-journal")]
    assert leftovers == []
    # The killed run's WARC is readable up to its last record.
    warcs = sorted((killed_dir / "warc").glob("*.warc.gz"))
    assert len(warcs) == 2
    for warc in warcs:
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(warc)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        index = subprocess.run([sys.executable, "-m", "warcio.cli", "index", str(warc)], capture_output=True, text=True)
        assert index.returncode == 0 and index.stderr == ""
        assert '"warcinfo"' in index.stdout.splitlines()[0]


def test_different_spiders_at_once_share_one_archive(upstream, tmp_path):
    clean_dir, shared_dir = tmp_path / "clean", tmp_path / "shared"
    assert crawl("finews", clean_dir, upstream).returncode == 0
    upstream.delay = 0.02
    runs = [
        start_crawl(name, shared_dir, upstream, FINEWS_SQLITE_BATCH_SIZE="3")
        for name in ("finews", "shanxiwanbao", "shaanxiribao")
    ]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err[-3000:]
    assert archive_state(shared_dir) == archive_state(clean_dir)
    assert len(rows(shared_dir / "finews.db", "SELECT * FROM crawls")) == 3
