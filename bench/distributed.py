"""Many machines on one: 1, 2 and 4 ``scrapy crawl`` workers (``FINEWS_REDIS_URL``) plus
one ``scrapy writer``, against a loopback upstream that answers each request after
200 ms, with a fleet-wide per-host concurrency high enough not to be the limit (32) and
4 concurrent requests per worker. Prints articles/s and the ratio against one worker
(targets: >= 1.8x with 2, >= 3x with 4), duplicates (text requests beyond one per
article: target 0), lost articles (target 0) and whether the archive equals a
single-machine crawl's (posts byte for byte, rows apart from timestamps and doc ids).
Then the default politeness: a fleet of 4 workers with the default settings sends no
faster than one machine would.

Needs Debian's redis-server (started here on a free port).

    python -m bench.distributed [--articles 2000] [--politeness-articles 150] [--workers 1,2,4] [--tiny]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from tests.conftest import TEST_SETTINGS, crawl, posts, rows
from tests.redis_server import redis_server
from tests.synthetic import make_corpus
from tests.test_fleet import archive_rows
from tests.upstream_server import Upstream

ROOT = Path(__file__).resolve().parents[1]

LATENCY = 0.2


def upstream_of(n: int) -> Upstream:
    papers = [("山西晚报", n // 3), ("陕西日报", n // 3), ("海南特区报", n - 2 * (n // 3))]
    records, texts = make_corpus(papers, seed=9)
    feeds = {"37": {"record": records[0::3]}, "38": {"record": records[1::3]}, "39": {"record": records[2::3]}}
    up = Upstream(feeds, texts).start()
    up.delay = LATENCY
    return up


def command(args: list[str], data_dir: Path, settings: dict) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", *args, "-s", f"FINEWS_DATA_DIR={data_dir}"]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def fleet_run(workers: int, up: Upstream, url: str, tmp: Path, settings: dict) -> tuple[float, Path, list[int]]:
    """Start ``workers`` workers, then a draining writer; seconds until the writer ended."""
    settings = {**settings, **up.settings()}  # the loopback upstream, never the real one
    server = redis.Redis.from_url(url)
    server.flushall()
    up.requests.clear(), up.started.clear()
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            command(["crawl", "finews"], tmp / f"w{workers}-{i}", {**settings, "FINEWS_REDIS_URL": url}),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    while not list(server.scan_iter(match="finews:worker:*")) and time.monotonic() - started < 60:
        time.sleep(0.05)
    archive = tmp / f"archive-{workers}"
    writer = subprocess.Popen(
        command(["writer", "--drain"], archive, {**TEST_SETTINGS, "FINEWS_REDIS_URL": url}),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    codes = [p.wait() for p in procs] + [writer.wait()]
    return time.monotonic() - started, archive, codes


def rate(up: Upstream) -> float:
    starts = sorted(up.started)
    return (len(starts) - 1) / (starts[-1] - starts[0]) if len(starts) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--politeness-articles", type=int, default=150)
    parser.add_argument("--workers", default="1,2,4", help="fleet sizes; the politeness run uses the largest")
    parser.add_argument("--tiny", action="store_true", help="toy sizes, in seconds: checks the script runs")
    args = parser.parse_args()
    if args.tiny:
        args.articles, args.politeness_articles, args.workers = 12, 6, "1,2"
    sizes = [int(w) for w in args.workers.split(",")]
    n = args.articles
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    fast = {
        **TEST_SETTINGS,
        "CONCURRENT_REQUESTS": "4",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "4",
        "FINEWS_FEED_COUNT": str(n),
        "DOWNLOAD_TIMEOUT": "20",
    }
    with redis_server() as url, tempfile.TemporaryDirectory(prefix="finews-bench-") as tmp_name:
        tmp = Path(tmp_name)
        up = upstream_of(n)
        try:
            clock = time.monotonic()
            single = tmp / "single"
            result = crawl("finews", single, up, settings=fast, timeout=3600)
            single_s = time.monotonic() - clock
            print(
                f"{n} articles, {LATENCY * 1000:.0f} ms per request; single machine (no Redis), 4 concurrent: "
                f"{single_s:.1f} s, {n / single_s:.1f} articles/s, exit {result.returncode}"
            )
            print(
                f"{'workers':>8}{'seconds':>9}{'articles/s':>12}{'ratio':>7}{'dupes':>7}{'lost':>6}"
                f"{'= single':>10}  exits"
            )
            base = None
            fleet = {**fast, "FINEWS_FLEET_CONCURRENCY_PER_HOST": "32"}
            for workers in sizes:
                seconds, archive, codes = fleet_run(workers, up, url, tmp, fleet)
                texts = [r for r in up.requests if r.startswith("text:")]
                dupes = len(texts) - len(set(texts))
                archived = rows(archive / "finews.db", "SELECT count(*) AS n FROM articles")[0]["n"]
                same = posts(archive) == posts(single) and archive_rows(archive) == archive_rows(single)
                speed = n / seconds
                base = base or speed
                print(
                    f"{workers:>8}{seconds:>9.1f}{speed:>12.1f}{speed / base:>6.2f}x{dupes:>7}{n - archived:>6}"
                    f"{'yes' if same else 'NO':>10}  {codes}"
                )
            print("targets: >= 1.80x with 2 workers, >= 3.00x with 4; 0 duplicates, 0 lost, archive = single")
            up.stop()
            # Default politeness: what one machine sends, and what a fleet of 4 (the largest) sends.
            m = args.politeness_articles
            up = upstream_of(m)
            polite = {"FINEWS_FEED_COUNT": str(m), "AUTOTHROTTLE_ENABLED": "1", "DOWNLOAD_TIMEOUT": "20"}
            up.requests.clear(), up.started.clear()
            crawl("finews", tmp / "polite-single", up, settings=polite, timeout=3600)
            one, one_max = rate(up), up.max_in_flight
            up.max_in_flight = 0
            seconds, _, codes = fleet_run(max(sizes), up, url, tmp / "polite", polite)
            four, four_max = rate(up), up.max_in_flight
            print(
                f"default politeness, {m} articles: one machine {one:.2f} requests/s (at most {one_max} at once); "
                f"{max(sizes)} workers {four:.2f} requests/s (at most {four_max} at once), exits {codes}"
            )
            ceiling = 2 / LATENCY  # one machine's bound: 2 requests at once per host
            print(
                f"fleet/one machine: {four / one:.2f}x the measured rate; at most {four_max} at once against one "
                f"machine's {one_max} (bound met: {'yes' if four_max <= 2 else 'NO'}); both under one machine's "
                f"ceiling of {ceiling:.0f} requests/s (2 at once / {LATENCY * 1000:.0f} ms): "
                f"{'yes' if max(one, four) <= ceiling * 1.02 else 'NO'}"
            )
        finally:
            up.stop()
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
