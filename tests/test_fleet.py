"""Many machines (FINEWS_REDIS_URL): real `scrapy crawl` workers and `scrapy writer`
against a real redis-server (the ``redis_url`` fixture) and the loopback upstream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import redis

from finews_spider.distributed import ITEMS, PROCESSING, WORKERS
from tests.conftest import ROOT, TEST_SETTINGS, crawl, posts, rows, sample_records, scrapy

pytestmark = pytest.mark.slow  # every test here starts processes (docs/testing.md)

# Columns that depend on when (or in which order) an article was archived.
VOLATILE = {"fetched_at", "first_seen_at", "last_seen_at", "doc_id"}


def archive_rows(data_dir):
    out = []
    for row in rows(data_dir / "finews.db", "SELECT * FROM articles ORDER BY info_code"):
        out.append({k: v for k, v in row.items() if k not in VOLATILE})
    return out


def start_worker(data_dir, upstream, url, settings=None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "finews", "-s", f"FINEWS_DATA_DIR={data_dir}"]
    merged = {**TEST_SETTINGS, **upstream.settings(), "FINEWS_REDIS_URL": url, **(settings or {})}
    for key, value in merged.items():
        cmd += ["-s", f"{key}={value}"]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def run_workers(n, tmp_path, upstream, url, settings=None, tag="w") -> list[tuple[int, str]]:
    """Run ``n`` workers as one fleet run: the upstream answers nothing until all of them
    have joined (as a timer starting them on every machine at once would have them)."""
    server = redis.Redis.from_url(url)
    upstream.gate = threading.Event()
    workers = [start_worker(tmp_path / f"{tag}{i}", upstream, url, settings) for i in range(n)]
    deadline = time.monotonic() + 60
    while len(list(server.scan_iter(match=f"{WORKERS}*"))) < n and time.monotonic() < deadline:
        if any(w.poll() is not None for w in workers):
            break
        time.sleep(0.02)
    upstream.gate.set()
    try:
        return [(w.wait(120), w.stderr.read()) for w in workers]
    finally:
        upstream.gate = None


def writer(data_dir, url, *args, **kw):
    return scrapy(
        "writer", *args, data_dir=data_dir, settings={"FINEWS_REDIS_URL": url, **kw.pop("settings", {})}, **kw
    )


def test_two_workers_and_a_writer_make_the_single_machine_archive(upstream, redis_url, tmp_path):
    single = tmp_path / "single"
    assert crawl("finews", single, upstream).returncode == 0
    upstream.requests.clear()
    upstream.delay = 0.05  # both workers take part
    for code, err in run_workers(2, tmp_path, upstream, redis_url):
        assert code == 0, err[-3000:]
        assert "status=ok" in err
    codes = {r["infoCode"] for r in sample_records()}
    # Each article fetched once by the fleet; the feeds read once (by the worker that opened the run).
    texts = [r for r in upstream.requests if r.startswith("text:")]
    assert sorted(texts) == sorted(f"text:{c}" for c in codes)
    assert sorted(r for r in upstream.requests if r.startswith("feed:")) == ["feed:37", "feed:38", "feed:39"]
    # The workers wrote no archive, only their WARC files, with the host name in them.
    host = os.uname().nodename
    for i in range(2):
        assert not (tmp_path / f"w{i}" / "finews.db").exists() and not (tmp_path / f"w{i}" / "_posts").exists()
        assert all(host in p.name for p in (tmp_path / f"w{i}" / "warc").glob("*.warc.gz"))
    result = writer(tmp_path / "archive", redis_url, "--drain")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "spider=writer status=ok new=34" in result.stderr
    assert posts(tmp_path / "archive") == posts(single)
    assert archive_rows(tmp_path / "archive") == archive_rows(single)
    [crawl_row] = rows(tmp_path / "archive" / "finews.db", "SELECT * FROM crawls")
    assert crawl_row["spider"] == "writer" and crawl_row["status"] == "ok" and crawl_row["articles_new"] == 34
    server = redis.Redis.from_url(redis_url)
    assert server.llen(ITEMS) == 0 and server.llen(PROCESSING) == 0
    # The next fleet run learns from the writer's state in Redis what is archived: only feeds.
    upstream.requests.clear()
    for code, err in run_workers(2, tmp_path, upstream, redis_url, tag="again"):
        assert code == 0, err[-3000:]
    assert sorted(upstream.requests) == ["feed:37", "feed:38", "feed:39"]
    # The two workers' WARC folders re-extract into the same archive.
    result = scrapy(
        "reextract",
        str(tmp_path / "w0" / "warc"),
        str(tmp_path / "w1" / "warc"),
        "--workers",
        "1",
        data_dir=tmp_path / "reextracted",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert posts(tmp_path / "reextracted") == posts(single)
    assert archive_rows(tmp_path / "reextracted") == archive_rows(single)


def test_writer_killed_mid_drain_loses_and_doubles_nothing(upstream, redis_url, tmp_path):
    single = tmp_path / "single"
    assert crawl("finews", single, upstream).returncode == 0
    for code, err in run_workers(1, tmp_path, upstream, redis_url):
        assert code == 0, err[-3000:]
    server = redis.Redis.from_url(redis_url)
    assert server.llen(ITEMS) == 34
    archive = tmp_path / "archive"
    cmd = [
        sys.executable,
        "-m",
        "scrapy",
        "writer",
        "-s",
        f"FINEWS_DATA_DIR={archive}",
        "-s",
        f"FINEWS_REDIS_URL={redis_url}",
        "-s",
        "FINEWS_SQLITE_BATCH_SIZE=1",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    committed = 0
    while time.monotonic() < deadline:
        if (archive / "finews.db").exists():
            try:
                committed = rows(archive / "finews.db", "SELECT count(*) AS n FROM articles")[0]["n"]
            except Exception:
                committed = 0
        if committed >= 3:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    left = server.llen(ITEMS) + server.llen(PROCESSING)
    assert 3 <= committed < 34 and left > 0, (committed, left)  # killed mid-drain
    result = writer(archive, redis_url, "--drain")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "taken again" in result.stderr
    assert posts(archive) == posts(single)
    assert archive_rows(archive) == archive_rows(single)
    assert server.llen(ITEMS) == 0 and server.llen(PROCESSING) == 0


def test_fleet_politeness_bounds_all_workers_together(upstream, redis_url, tmp_path):
    upstream.delay = 0.1
    limits = {
        "FINEWS_FLEET_CONCURRENCY_PER_HOST": "2",
        "CONCURRENT_REQUESTS": "8",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    }
    for code, err in run_workers(3, tmp_path, upstream, redis_url, limits):
        assert code == 0, err[-3000:]
    assert upstream.count("text:") == 34
    assert upstream.max_in_flight == 2  # 3 workers × 8 allowed each, 2 for the fleet
    # A minimum interval for the fleet: request starts at least FINEWS_FLEET_DELAY apart.
    upstream.requests.clear(), upstream.started.clear()
    redis.Redis.from_url(redis_url).delete("finews:archived")
    upstream.delay = 0.0
    for code, err in run_workers(3, tmp_path, upstream, redis_url, {**limits, "FINEWS_FLEET_DELAY": "0.1"}, tag="d"):
        assert code == 0, err[-3000:]
    starts = sorted(upstream.started)
    assert len(starts) == 37
    # Leases are granted >= 0.1 s apart; arrivals jitter by how long each request takes to
    # reach the server, which bounds only the ends of the span.
    assert starts[-1] - starts[0] >= 36 * 0.1 - 0.15


def test_lease_spacing_is_the_askers_delay_across_workers(redis_url):
    """The host's next lease waits for the asking worker's delay since the last grant to
    any worker; FINEWS_FLEET_DELAY is a floor under it."""
    from finews_spider.distributed.politeness import HostSemaphore

    server = redis.Redis.from_url(redis_url)
    semaphore = HostSemaphore(server, capacity=10, delay_seconds=0.0, lease_seconds=60)
    assert semaphore.try_take("h", "a", 0.5) == 0
    assert 0.4 < semaphore.try_take("h", "b", 0.5) <= 0.5  # another worker, same delay: spaced
    assert semaphore.try_take("h", "c", 0.0) == 0  # a worker without delay is not held back ...
    assert semaphore.try_take("other", "d", 0.5) == 0  # ... nor is another host
    assert 0.4 < semaphore.try_take("h", "e", 0.5) <= 0.5  # ... but its grant counts for the others
    floor = HostSemaphore(server, capacity=10, delay_seconds=0.3, lease_seconds=60)
    assert floor.try_take("f", "a", 0.0) == 0
    assert 0.2 < floor.try_take("f", "b", 0.1) <= 0.3


def test_each_workers_download_delay_spaces_the_whole_fleet(upstream, redis_url, tmp_path):
    """With the default fleet settings, 3 workers each with DOWNLOAD_DELAY 0.1 send the
    37 requests at least 0.1 s apart in all, as one machine would (not 3 times as fast)."""
    settings = {"DOWNLOAD_DELAY": "0.1", "DOWNLOAD_DELAY_JITTER": "0", "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}
    for code, err in run_workers(3, tmp_path, upstream, redis_url, settings):
        assert code == 0, err[-3000:]
    starts = sorted(upstream.started)
    assert len(starts) == 37
    assert starts[-1] - starts[0] >= 36 * 0.1 - 0.15


def test_writer_needs_redis_url(tmp_path):
    result = scrapy("writer", "--drain", data_dir=tmp_path)
    assert result.returncode == 2 and "needs FINEWS_REDIS_URL" in result.stderr


def test_worker_without_its_redis_server_says_so_in_one_line(upstream, tmp_path):
    from tests.redis_server import free_port

    url = f"redis://127.0.0.1:{free_port()}/0"
    result = crawl("finews", tmp_path, upstream, settings={"FINEWS_REDIS_URL": url})
    assert result.returncode == 1
    assert f"not started: the fleet's Redis server {url} cannot be used" in result.stderr
    assert "Traceback" not in result.stderr and upstream.requests == []


def test_writer_runs_until_sigterm_and_ends_as_a_finished_run(upstream, redis_url, tmp_path):
    for code, err in run_workers(1, tmp_path, upstream, redis_url):
        assert code == 0, err[-3000:]
    archive = tmp_path / "archive"
    cmd = [
        sys.executable,
        "-m",
        "scrapy",
        "writer",
        "-s",
        f"FINEWS_DATA_DIR={archive}",
        "-s",
        f"FINEWS_REDIS_URL={redis_url}",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    server = redis.Redis.from_url(redis_url)
    while time.monotonic() < deadline and (server.llen(ITEMS) or server.llen(PROCESSING)):
        time.sleep(0.05)
    time.sleep(1)  # queue empty: a writer without --drain waits for more
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    err = proc.stderr.read()
    assert "spider=writer status=ok new=34" in err, err[-3000:]
    assert len(posts(archive)) == 34
