"""Raw capture into WARC, offline replay, and re-extraction."""

import gzip
import json
import subprocess
import sys

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import SAMPLE_WARC, crawl, posts, rows, scrapy

pytestmark = pytest.mark.slow  # all but two tests run scrapy crawl or reextract (docs/testing.md)

# Columns about this archive's own bookkeeping (when it saw an article, its row id).
BOOKKEEPING = {"first_seen_at", "last_seen_at", "doc_id"}


def articles(data_dir):
    return [
        {k: v for k, v in r.items() if k not in BOOKKEEPING}
        for r in rows(data_dir / "finews.db", "SELECT * FROM articles ORDER BY info_code")
    ]


def test_capture_then_replay_with_server_stopped_gives_the_same_archive(upstream, tmp_path):
    live, replayed = tmp_path / "live", tmp_path / "replayed"
    assert crawl("finews", live, upstream).returncode == 0
    pointed_at = upstream.settings()
    upstream.stop()
    result = crawl("finews", replayed, None, settings={**pointed_at, "FINEWS_REPLAY": str(live / "warc")})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'finews/replay_hits': 37" in result.stderr
    assert posts(replayed) == posts(live) and len(posts(live)) == 34
    assert articles(replayed) == articles(live)  # fetched_at included: it is the capture time


def test_warc_records_are_linked_and_start_with_warcinfo(upstream, tmp_path):
    assert crawl("shanxiwanbao", tmp_path, upstream).returncode == 0
    [warc] = list((tmp_path / "warc").glob("*.warc.gz"))
    with open(warc, "rb") as f:
        records = [(r.rec_type, dict(r.rec_headers.headers), r.content_stream().read()) for r in ArchiveIterator(f)]
    assert records[0][0] == "warcinfo"
    assert b"finews-archive" in records[0][2] and b"FINEWS_FEED_URL" in records[0][2]
    responses = {h["WARC-Record-ID"]: h for t, h, _ in records if t == "response"}
    requests = [h for t, h, _ in records if t == "request"]
    assert len(responses) == len(requests) == 10
    for request in requests:
        assert request["WARC-Concurrent-To"] in responses
        assert responses[request["WARC-Concurrent-To"]]["WARC-Target-URI"] == request["WARC-Target-URI"]
    # Gzip per record: every record is its own gzip member.
    assert gzip.decompress(warc.read_bytes()).count(b"WARC/1.") == 1 + 20


def test_warc_rotates_past_max_bytes(upstream, tmp_path):
    assert crawl("finews", tmp_path, upstream, settings={"FINEWS_WARC_MAX_BYTES": "20000"}).returncode == 0
    files = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert len(files) > 3
    for path in files:
        with open(path, "rb") as f:
            assert next(iter(ArchiveIterator(f))).rec_type == "warcinfo"


def test_capture_can_be_turned_off(upstream, tmp_path):
    assert crawl("shanxiwanbao", tmp_path, upstream, settings={"FINEWS_WARC_CAPTURE": "0"}).returncode == 0
    assert not (tmp_path / "warc").exists() and len(posts(tmp_path)) == 7


def test_replay_reports_requests_not_in_the_archive(tmp_path):
    result = crawl(
        "shanxiwanbao", tmp_path, None, settings={"FINEWS_REPLAY": str(SAMPLE_WARC), "FINEWS_FEED_COUNT": "5"}
    )
    assert "is not in the WARC archive; not sent to the network" in result.stderr
    assert "'finews/replay_missing': 3" in result.stderr
    assert result.returncode == 1


def test_bundled_sample_replays_into_the_reference(tmp_path):
    result = crawl("shanxiwanbao", tmp_path, None, settings={"FINEWS_REPLAY": str(SAMPLE_WARC)})
    assert result.returncode == 0, result.stderr[-3000:]
    reference = SAMPLE_WARC.parents[2] / "tests" / "fixtures" / "reference" / "2021-12-23-NW202112232223130395.md"
    assert posts(tmp_path)["2021-12-23-NW202112232223130395.md"] == reference.read_bytes()


def test_reextract_applies_cleaning_again_without_network(upstream, tmp_path):
    assert crawl("finews", tmp_path, upstream).returncode == 0
    before = posts(tmp_path)
    upstream.stop()
    # Simulate an archive written by an older, wrong cleaning rule.
    import sqlite3

    conn = sqlite3.connect(tmp_path / "finews.db")
    conn.execute(
        "UPDATE articles SET body_html = body_html || '<p>旧规则</p>', content_hash='old' WHERE slug='dahebao'"
    )
    conn.commit()
    conn.close()
    for post in (tmp_path / "_posts").iterdir():
        post.unlink()
    result = scrapy("reextract", str(tmp_path / "warc"), "--workers", "1", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "new=0 changed=5 unchanged=29" in result.stderr
    assert posts(tmp_path) == before
    assert rows(tmp_path / "finews.db", "SELECT count(*) n FROM revisions WHERE body_html LIKE '%旧规则%'") == [
        {"n": 5}
    ]
    # Every request was answered from the captures (the upstream is stopped): 3 feeds, 34 texts.
    assert "'finews/replay_hits': 37" in result.stderr and "replay_missing" not in result.stderr


def test_warcio_accepts_the_bundled_sample():
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(SAMPLE_WARC)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_reextract_with_two_workers_rebuilds_the_same_archive(upstream, tmp_path):
    live, rebuilt = tmp_path / "live", tmp_path / "rebuilt"
    assert crawl("finews", live, upstream).returncode == 0
    upstream.stop()
    out = tmp_path / "items.jsonl"
    result = scrapy("reextract", str(live / "warc"), "--workers", "2", "-O", str(out), data_dir=rebuilt)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("run summary: spider=reextract status=ok") == 2  # the workers'
    assert "run summary: spider=reextract workers=2 status=ok new=34 changed=0 unchanged=0" in result.stderr
    assert posts(rebuilt) == posts(live)
    assert articles(rebuilt) == articles(live)
    # One crawls row for the whole run, with the sums; one complete export.
    [row] = rows(rebuilt / "finews.db", "SELECT * FROM crawls")
    assert (row["spider"], row["status"], row["articles_new"]) == ("reextract", "ok", 34)
    exported = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert sorted(e["info_code"] for e in exported) == sorted(a["info_code"] for a in articles(live))
    assert all(e["doc_id"] and e["first_seen_at"] for e in exported)


def test_reextract_holds_the_lock_of_the_finews_crawl(tmp_path):
    """Re-extraction and `scrapy crawl finews` both write every paper: one at a time."""
    import fcntl
    import os

    lock = tmp_path / ".locks" / "finews.lock"
    lock.parent.mkdir(parents=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        for workers in ("1", "2"):
            result = scrapy("reextract", str(SAMPLE_WARC), "--workers", workers, data_dir=tmp_path)
            assert result.returncode == 75, result.stderr[-2000:]
    finally:
        os.close(fd)


def test_reextract_uses_the_latest_good_capture(upstream, tmp_path):
    """A later failed capture (HTTP 500 after retries) never hides an earlier good one."""
    live = tmp_path / "live"
    assert crawl("shanxiwanbao", live, upstream).returncode == 0
    first = posts(live)
    code = sorted(first)[0].split("-", 3)[3][:-3]
    upstream.faults[f"text:{code}"] = [500] * 10
    assert crawl("shanxiwanbao", live, upstream, "-a", "refresh=1").returncode == 1  # that article failed
    upstream.stop()
    rebuilt = tmp_path / "rebuilt"
    result = scrapy("reextract", str(live / "warc"), "--workers", "1", data_dir=rebuilt)
    assert result.returncode == 0, result.stderr[-3000:]
    assert posts(rebuilt) == first


def test_reextract_refuses_a_bad_shard(tmp_path):
    result = scrapy("reextract", str(SAMPLE_WARC), "--workers", "1", "-a", "shard=3/2", data_dir=tmp_path)
    assert result.returncode != 0 and "shard must be I/N" in result.stderr


def test_the_index_keeps_only_the_texts_a_worker_asks_for():
    """A re-extraction worker indexes its share of the captured texts (the bundled,
    recorded sample), every feed, and answers its texts as the full index does."""
    from finews_spider import settings
    from finews_spider.upstream import text_url
    from finews_spider.warc import WarcIndex

    full = WarcIndex(SAMPLE_WARC)
    assert len(full.texts) >= 2 and full.feeds
    codes = sorted(full.texts)
    mine = set(codes[::2])
    share = WarcIndex(SAMPLE_WARC, keep_text=mine.__contains__)
    assert share.texts == mine and share.feeds == full.feeds
    assert len(share) == len(full) - (len(codes) - len(mine))
    for code in codes:
        url = text_url(settings.FINEWS_TEXT_URL, code)
        got = share.get("GET", url)
        if code in mine:
            assert got is not None and got.body == full.get("GET", url).body
        else:
            assert got is None


def test_reextract_gives_the_engine_a_window_of_texts(upstream, tmp_path):
    """start() keeps at most twice CONCURRENT_REQUESTS text requests unanswered (not the
    whole share in Scrapy's scheduler; bench/reextract.py measures the memory): with one
    request in flight it must wait for room again and again over these 34 articles, and
    the run still archives every article once (no answer goes uncounted, so it never stalls)."""
    live, rebuilt = tmp_path / "live", tmp_path / "rebuilt"
    assert crawl("finews", live, upstream).returncode == 0
    upstream.stop()
    result = scrapy(
        "reextract",
        str(live / "warc"),
        "--workers",
        "1",
        "-s",
        "CONCURRENT_REQUESTS=1",
        "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=1",
        data_dir=rebuilt,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "spider=reextract status=ok new=34 changed=0 unchanged=0" in result.stderr
    assert posts(rebuilt) == posts(live)


def test_the_index_answers_with_the_latest_good_capture_of_many(tmp_path):
    """A URL captured on every run (a feed) keeps all its 2xx captures: the newest good one
    answers, a later failure or a body that is not JSON never hides it, and a URL that
    only ever failed is answered with its failure."""
    from finews_spider.warc import WarcIndex, WarcWriter

    writer = WarcWriter(tmp_path, "t", {"software": "test"}, 1 << 30)
    headers = {b"Content-Type": [b"application/json"]}
    base = "http://upstream.test/api/"
    for n in range(50):  # captured again and again, as cron runs do
        writer.write_exchange("GET", base + "feed?marketType=37", {}, b"", 200, headers, b'{"record": [%d]}' % n)
    writer.write_exchange("GET", base + "feed?marketType=37", {}, b"", 200, headers, b"<html>not json")
    writer.write_exchange("GET", base + "feed?marketType=37", {}, b"", 500, headers, b'{"error": 1}')
    writer.write_exchange("GET", base + "text?id=NW1", {}, b"", 503, headers, b'{"error": 2}')
    writer.write_exchange("GET", base + "text?id=NW2", {}, b"", 200, headers, b'{"text": "<p>x</p>"}')
    writer.close()
    index = WarcIndex(tmp_path)
    assert len(index.feeds) == 50 and index.texts == {"NW2"}
    assert index.get("GET", base + "feed?marketType=37").body == b'{"record": [49]}'
    assert index.get("GET", base + "text?id=NW1").status == 503
    assert index.get("GET", base + "text?id=NW2").body == b'{"text": "<p>x</p>"}'
    assert index.get("GET", base + "text?id=NW3") is None


def test_reextract_refuses_a_damaged_archive_in_one_line(tmp_path):
    """With workers or without, a database that cannot be opened ends the run with exit 1
    and the way back, not a traceback."""
    db = tmp_path / "finews.db"
    db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8000)
    for workers in ("1", "2"):
        result = scrapy("reextract", str(SAMPLE_WARC), "--workers", workers, data_dir=tmp_path)
        assert result.returncode == 1, result.stderr[-2000:]
        assert "cannot be used" in result.stderr and "scrapy reextract" in result.stderr
        assert "Traceback" not in result.stderr, result.stderr[-2000:]


def test_an_interrupted_reextract_with_workers_fails_as_one_run(tmp_path):
    """A Ctrl-C reaches the command (its workers run in sessions of their own); it passes
    it on once, the workers stop, and the run gets one verdict: exit 1, one summary line,
    one failed crawls row, no traceback. Synthetic captures (tests/synthetic.py)."""
    import signal
    import time

    from tests.conftest import ROOT, TEST_SETTINGS
    from tests.synthetic import write_captures

    write_captures(tmp_path / "warc", 3000)
    data = tmp_path / "data"
    cmd = [
        sys.executable,
        "-m",
        "scrapy",
        "reextract",
        str(tmp_path / "warc"),
        "--workers",
        "2",
        "-s",
        f"FINEWS_DATA_DIR={data}",
        "-s",
        "CONCURRENT_REQUESTS=4",
    ]
    for key, value in TEST_SETTINGS.items():
        cmd += ["-s", f"{key}={value}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any((data / "_posts").glob("*.md")):  # the workers are at work
        assert time.monotonic() < deadline and proc.poll() is None, "no post written"
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    [line] = [line for line in err.splitlines() if "spider=reextract workers=2" in line]
    assert "status=failed" in line and "shutdown" in line
    [row] = rows(data / "finews.db", "SELECT * FROM crawls")
    assert (row["spider"], row["status"]) == ("reextract", "failed")


def test_capture_is_part_of_the_commit(upstream, tmp_path):
    """A WARC folder that cannot be written fails the run and archives nothing whose
    exchange was not captured; once it can be written, the next run archives and captures
    every article (none is left archived but never captured)."""
    from warcio.archiveiterator import ArchiveIterator

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the WARC folder should be")
    data = tmp_path / "data"
    first = crawl("finews", data, upstream, settings={"FINEWS_WARC_DIR": str(blocked / "warc")})
    assert first.returncode == 1 and "could not be captured in WARC" in first.stderr
    assert rows(data / "finews.db", "SELECT count(*) AS n FROM articles") == [{"n": 0}]
    blocked.unlink()
    second = crawl("finews", data, upstream, settings={"FINEWS_WARC_DIR": str(blocked / "warc")})
    assert second.returncode == 0, second.stderr[-2000:]
    captured = set()
    for path in (blocked / "warc").glob("*.warc.gz"):
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                if record.rec_type == "response" and "GetNewsText" in uri:
                    captured.add(uri.rsplit("=", 1)[1])
    archived = {r["info_code"] for r in rows(data / "finews.db", "SELECT info_code FROM articles")}
    assert len(archived) == 34 and archived == captured


def _damaged_copy(tmp_path):
    """The sample recording with one record in the middle of the file damaged (bytes of
    its gzip member overwritten): (the copy, the infoCode whose text it held)."""
    import shutil

    copy = tmp_path / "damaged.warc.gz"
    shutil.copy(SAMPLE_WARC, copy)
    texts = []
    with open(copy, "rb") as f:
        iterator = ArchiveIterator(f)
        for record in iterator:
            uri = record.rec_headers.get_header("WARC-Target-URI") or ""
            if record.rec_type == "response" and "GetNewsText" in uri:
                texts.append((iterator.get_record_offset(), uri.rsplit("=", 1)[1]))
    offset, code = texts[len(texts) // 2]
    data = bytearray(copy.read_bytes())
    data[offset + 20 : offset + 60] = b"\x00" * 40  # inside the member: it no longer inflates
    copy.write_bytes(bytes(data))
    return copy, code


def test_a_warc_damaged_mid_file_loses_one_record_and_fails_the_reextraction(tmp_path):
    """Damage in the middle of a file skips that record only (the rest is read: the
    articles after it are re-extracted), is counted, and fails the run: exit 1."""
    copy, code = _damaged_copy(tmp_path)
    for workers in ("1", "2"):
        data = tmp_path / f"data{workers}"
        result = scrapy("reextract", str(copy), "--workers", workers, data_dir=data)
        assert result.returncode == 1, result.stderr[-2000:]
        assert "damaged WARC record(s) could not be replayed" in result.stderr
        assert "reason='1 damaged" in result.stderr  # once, whatever the number of workers
        archived = {r["info_code"] for r in rows(data / "finews.db", "SELECT info_code FROM articles")}
        assert code not in archived and len(archived) == 33


def test_a_warc_cut_short_at_its_end_is_no_damage(tmp_path):
    """A killed run's file ends in half a record: read up to it; the run is ok (that run
    never recorded the article whose record it was writing)."""
    import shutil

    copy = tmp_path / "cut.warc.gz"
    shutil.copy(SAMPLE_WARC, copy)
    with open(copy, "rb") as f:
        iterator = ArchiveIterator(f)
        last = max(iterator.get_record_offset() for record in iterator if record.rec_type == "response")
    copy.write_bytes(copy.read_bytes()[: last + 300])  # the last response, cut in the middle
    result = scrapy("reextract", str(copy), "--workers", "1", data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "damaged WARC" not in result.stderr  # (warcio itself ends at a cut gzip member)
    assert len(rows(tmp_path / "data" / "finews.db", "SELECT info_code FROM articles")) == 33
