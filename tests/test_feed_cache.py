"""The feed cache (``FINEWS_FEED_TTL``): per-paper spiders run back to back on one data
folder read each feed once; real ``scrapy crawl`` runs against the loopback upstream,
counted by its request log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from finews_spider.archive.feedcache import FeedCache
from tests.conftest import crawl, rows

CACHE = {"FINEWS_FEED_TTL": "60"}
PAPERS = ("shanxiwanbao", "shaanxiribao", "hainantequbao")


def warc_urls(data_dir: Path) -> list[str]:
    urls = []
    for path in sorted((data_dir / "warc").glob("*.warc.gz")):
        with open(path, "rb") as f:
            urls += [
                r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(f) if r.rec_type == "response"
            ]
    return urls


def test_three_per_paper_spiders_send_three_feed_requests_not_nine(upstream, tmp_path):
    results = [crawl(name, tmp_path, upstream, settings=CACHE) for name in PAPERS]
    assert [r.returncode for r in results] == [0, 0, 0], results[-1].stderr[-2000:]
    assert upstream.count("feed:") == 3
    # The later runs read the cached feeds, judged like fetched ones: ok, every paper archived.
    for result in results[1:]:
        assert "'finews/feeds_cached': 3" in result.stderr and "'finews/feeds_ok': 3" in result.stderr
        assert "status=ok" in result.stderr
    assert "'finews/feeds_stored': 3" in results[0].stderr
    slugs = {r["slug"] for r in rows(tmp_path / "finews.db", "SELECT DISTINCT slug FROM articles")}
    assert slugs == set(PAPERS)
    # A cached answer is no new capture: the feeds are in the WARCs once.
    feeds = [u for u in warc_urls(tmp_path) if "marketType" in u]
    assert len(feeds) == 3 and len(set(feeds)) == 3


def test_without_the_cache_each_spider_reads_every_feed(upstream, tmp_path):
    for name in PAPERS:
        assert crawl(name, tmp_path, upstream, settings={"FINEWS_FEED_TTL": "0"}).returncode == 0
    assert upstream.count("feed:") == 9


def age_the_cache(data_dir: Path, seconds: float) -> list[str]:
    """Move every cached feed's fetch time ``seconds`` back, through the cache's own API: what
    a later run reads is as if that much time had passed (no sleep). The feeds' URLs."""
    cache = FeedCache(data_dir)
    entries = [json.loads(p.read_bytes()) for p in cache.folder.glob("*.json")]
    for entry in entries:
        fetched = datetime.fromisoformat(entry["fetched_at"])
        cache.store(entry["url"], entry["body"].encode("utf-8"), fetched - timedelta(seconds=seconds))
    return [entry["url"] for entry in entries]


def test_an_expired_feed_is_fetched_again(upstream, tmp_path):
    settings = {"FINEWS_FEED_TTL": "60"}
    assert crawl(PAPERS[0], tmp_path, upstream, settings=settings).returncode == 0
    cache = FeedCache(tmp_path)
    urls = age_the_cache(tmp_path, 30)
    assert len(urls) == 3 and all(cache.cached(url, 60) for url in urls)  # aged, not damaged
    age_the_cache(tmp_path, 31)  # 61 s old: expired
    assert not any(cache.cached(url, 60) for url in urls)
    result = crawl(PAPERS[1], tmp_path, upstream, settings=settings)
    assert result.returncode == 0 and "finews/feeds_cached" not in result.stderr
    assert upstream.count("feed:") == 6


def test_a_failed_feed_is_not_kept(upstream, tmp_path):
    upstream.faults["feed:37"] = [500, 500, 500]  # every try of the first run
    first = crawl(PAPERS[0], tmp_path, upstream, settings=CACHE)
    assert "'finews/feeds_stored': 2" in first.stderr
    second = crawl(PAPERS[1], tmp_path, upstream, settings=CACHE)
    assert second.returncode == 0 and "'finews/feeds_cached': 2" in second.stderr
    assert upstream.count("feed:37") == 4  # three failed tries, then fetched by the second run


def test_cached_feed_freshness_and_damage(tmp_path):
    cache = FeedCache(tmp_path)
    url = "http://127.0.0.1:1/feed?marketType=37&count=100"
    then = datetime(2026, 1, 1, tzinfo=UTC)
    cache.store(url, b'{"record": []}', then)
    assert cache.cached(url, 60, now=then + timedelta(seconds=59)) == (b'{"record": []}', then)
    assert cache.cached(url, 60, now=then + timedelta(seconds=61)) is None
    assert cache.cached(url, 60, now=then - timedelta(seconds=5)) is None  # from the future: stale
    assert cache.cached(url.replace("37", "38"), 60, now=then) is None
    cache.path(url).write_text("{not json", "utf-8")
    assert cache.cached(url, 60, now=then) is None
