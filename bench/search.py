"""Chinese search latency on an archive of synthetic articles, as Datasette runs it.

Builds (once, cached under bench/out/) an archive of N synthetic articles by direct
inserts into the archive's own schema (see build: the rows and search-index rows a crawl
writes, in transactions of 20,000; the generation rate is printed), then times the
queries of Datasette's search page with the finews plugin, built by the plugin's own
functions: the match count (from the index; plus Datasette's count of the rows when the
plugin leaves the search to Datasette, at most ``newest_first_above`` matches) and the
first page, newest first. Query words are drawn from random positions of random
articles (so common words are asked more often), two- and four-character ones separately.

Targets at 1,000,000 articles: first page p95 < 50 ms, count p95 < 100 ms. Also prints
the archive's size per 1,000 articles.

    python -m bench.search [--articles 100000] [--queries 200] [--page-size N]
    python -m bench.search --checkpoints 100000,400000,1000000
    python -m bench.search --measure bench/out/search-grow-1000000.db
    python -m bench.search --tiny     # a build, a measure and a growth of toy sizes, in a temporary folder

``--page-size`` is a size experiment (a page size other than SQLite's 4096).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from finews_spider.archive.database import ArchiveDatabase, doc_id_base
from finews_spider.cleaning import clean_body, derive_text_fields
from finews_spider.datasette_plugin.filters import NEWEST_FIRST_ABOVE, ArticleSearch, search_filter
from finews_spider.registry import Registry
from finews_spider.search import MIDDLE_DOC_ID_SQL, count_queries, document_tokens, fts_query
from tests.synthetic import SENTENCES, make_body

ROOT = Path(__file__).resolve().parents[1]

BJ = timezone(timedelta(hours=8))
CHARS = sorted(set("".join(SENTENCES)) - set("，。、；：“”（）%.0123456789"))
# What Datasette runs for the articles table (50 a page, the plugin's columns).
PAGE_SQL = "SELECT info_code, title, newspaper, published_at, body_html FROM articles WHERE {where} ORDER BY doc_id DESC LIMIT 51"
ROWS_COUNT_SQL = "SELECT count(*) FROM articles WHERE {where}"


MENTION_POOL = [
    ("stock", "1", "600160", "巨化股份", "SSE"),
    ("stock", "0", "300343", "联创股份", "SZSE"),
    ("stock", "106", "NIO", "蔚来", "NYSE"),
    ("board", "90", "BK0493", "新能源", None),
    ("stock", "1", "601628", "中国人寿", "SSE"),
    ("stock", "116", "00700", "腾讯控股", "HKEX"),
]
FTS_LOAD_HASHSIZE = 256 * 1024 * 1024
ARTICLE_INSERT_COLUMNS = [
    "info_code",
    "doc_id",
    "title",
    "published_at",
    "published_date",
    "newspaper",
    "slug",
    "body_html",
    "source",
    "editor",
    "share_url",
    "fetched_at",
    "content_hash",
    "first_seen_at",
    "last_seen_at",
]


def build(
    path: Path,
    n: int,
    batch: int = 20_000,
    pool_size: int = 3000,
    page_size: int | None = None,
    start_at: int = 0,
    optimize: bool = True,
) -> float:
    """N synthetic articles inserted straight into the archive's own schema (created by
    ArchiveDatabase, so tables, indexes, FTS and marker are the real ones), in
    transactions of ``batch``: the rows, their search-index rows (``document_tokens``,
    as a crawl writes them), some mentions and the newspapers' counts. One article every
    7 minutes from 2020-01-01, so doc_id is its publication time's (``doc_id_base``).
    Bodies are cleaned once for a pool of ``pool_size`` synthetic bodies; each article
    takes one and adds a paragraph of random characters of its own (so words have a
    realistic spread of frequencies: a few very common, most rare). With ``start_at``,
    the archive at ``path`` (of ``start_at`` articles) grows to ``n``. Returns articles/s."""
    rng = random.Random(7 + start_at)
    papers = Registry.load().papers
    if start_at:
        pass
    elif page_size:  # an experiment: the archive's own default otherwise
        pre = sqlite3.connect(path)
        pre.execute(f"PRAGMA page_size={page_size}")
        pre.execute("VACUUM")
        pre.close()
    if not start_at:
        db = ArchiveDatabase(path)
        db.sync_newspapers(papers)
        db.close()
    pool = [
        clean_body(make_body(rng, "X", rng.randint(800, 3000), hostile=False), "http://finews.zning.xyz/x", "X").body
        for _ in range(pool_size)
    ]
    pool = [b.replace('<p class="em_media">（文章来源：X）</p>', "") for b in pool]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")  # no WAL growing by a whole batch; WAL again at the end
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    # A large in-memory FTS5 buffer (default 1 MB) while loading: fewer, larger segments to
    # merge; set back to the default before the archive is handed over.
    conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', ?)", (FTS_LOAD_HASHSIZE,))
    start, now = datetime(2020, 1, 1, tzinfo=BJ), datetime.now(UTC).replace(microsecond=0).isoformat()
    insert = (
        f"INSERT INTO articles ({', '.join(ARTICLE_INSERT_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(ARTICLE_INSERT_COLUMNS))})"
    )
    t0 = time.perf_counter()
    for first in range(start_at, n, batch):
        rows, fts, mentions = [], [], []
        for i in range(first, min(n, first + batch)):
            paper = papers[rng.randrange(len(papers))]
            noise = "".join(rng.choice(CHARS) for _ in range(rng.randint(20, 80)))
            body = (
                pool[rng.randrange(pool_size)] + f'<p>{noise}。</p><p class="em_media">（文章来源：{paper.name}）</p>'
            )
            code = f"NW{202001010000000000 + i:018d}"
            title = f"{paper.name}{noise[:12]}"
            _, content_hash = derive_text_fields(title, body)
            published = (start + timedelta(minutes=7 * i)).isoformat()
            doc_id = doc_id_base(published)
            rows.append(
                (
                    code,
                    doc_id,
                    title,
                    published,
                    published[:10],
                    paper.name,
                    paper.slug,
                    body,
                    paper.name,
                    None,
                    f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}",
                    now,
                    content_hash,
                    now,
                    now,
                )
            )
            fts.append((doc_id, *document_tokens(title, body)))
            if rng.random() < 0.2:
                mentions += [(code, *m, published) for m in rng.sample(MENTION_POOL, rng.randint(1, 3))]
        conn.execute("BEGIN")
        conn.executemany(insert, rows)
        conn.executemany("INSERT INTO articles_fts (rowid, title, body_text) VALUES (?, ?, ?)", fts)
        conn.executemany(
            "INSERT INTO mentions (info_code, kind, market, code, name, exchange, published_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            mentions,
        )
        conn.execute("COMMIT")
        done = min(n, first + batch)
        print(f"  built {done} articles ({(done - start_at) / (time.perf_counter() - t0):.0f}/s)", file=sys.stderr)
    conn.execute("BEGIN")
    conn.execute("UPDATE newspapers SET article_count=(SELECT count(*) FROM articles WHERE slug=newspapers.slug)")
    conn.execute("COMMIT")
    rate = (n - start_at) / (time.perf_counter() - t0)
    if optimize:
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('optimize')")
    conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', ?)", (1024 * 1024,))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    return rate


def words(conn, length: int, count: int, rng: random.Random) -> list[str]:
    (top,) = conn.execute("SELECT max(rowid) FROM articles").fetchone()
    out = []
    while len(out) < count:
        row = conn.execute("SELECT body_html FROM articles WHERE rowid=?", (rng.randint(1, top),)).fetchone()
        if row is None:
            continue
        text = re.sub(r"<[^>]+>", "", row[0])
        runs = [r for r in re.findall(r"[\u4e00-\u9fff]+", text) if len(r) >= length]
        run = rng.choice(runs)
        i = rng.randrange(len(run) - length + 1)
        out.append(run[i : i + length])
    return out


def timed(conn, sql: str, params: dict) -> tuple[float, list]:
    start = time.perf_counter()
    result = conn.execute(sql, params).fetchall()
    return (time.perf_counter() - start) * 1000, result


def search_once(conn, halves, middle: int | None, word: str, above: int) -> tuple[float, float, int, bool]:
    """One search as Datasette with the plugin runs it: (count ms, first page ms,
    matches, answered newest first). The count, as the plugin's asgi_wrapper does it:
    the two halves either side of the median doc_id at once (``halves``: a function
    running queries on two connections, as Datasette's SQL threads do)."""
    start = time.perf_counter()
    matches = sum(halves(count_queries(fts_query(word), middle)))
    count_ms = (time.perf_counter() - start) * 1000
    search = ArticleSearch(word, False, matches, matches > above, above)
    where, params = search_filter(search)
    if not search.newest_first:  # Datasette counts the rows itself
        ms, _ = timed(conn, ROWS_COUNT_SQL.format(where=where), params)
        count_ms += ms
    page_ms, page = timed(conn, PAGE_SQL.format(where=where), params)
    assert len(page) == min(51, matches), (word, len(page), matches)
    return count_ms, page_ms, matches, search.newest_first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--page-size", type=int, help="build with this SQLite page size (an experiment)")
    parser.add_argument(
        "--measure",
        metavar="PATH",
        help="only measure this existing archive (e.g. the one --checkpoints grew, bench/out/search-grow-1000000.db)",
    )
    parser.add_argument(
        "--checkpoints", help="grow one archive through these sizes (e.g. 100000,200000,1000000), measuring at each"
    )
    parser.add_argument("--tiny", action="store_true", help="toy sizes, in seconds: checks the script runs")
    args = parser.parse_args()
    if args.tiny:
        return tiny()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    if args.measure:
        print(f"load average {os.getloadavg()[0]:.1f}")
        measure(Path(args.measure), args.queries)
        return
    if args.checkpoints:
        grow(out, [int(c) for c in args.checkpoints.split(",")], args.queries)
        return
    path = out / f"search-{args.articles}{f'-p{args.page_size}' if args.page_size else ''}.db"
    if not path.exists():
        print(f"building {path} ...", file=sys.stderr)
        t0 = time.perf_counter()
        rate = build(path, args.articles, page_size=args.page_size)
        print(
            f"generated {args.articles} articles: {rate:.0f} articles/s inserted, "
            f"{time.perf_counter() - t0:.0f} s in all (with the FTS optimize)"
        )
    measure(path, args.queries)


def tiny() -> None:
    """Every path of the script at toy sizes, in a temporary folder (not the cache)."""
    with tempfile.TemporaryDirectory(prefix="finews-bench-search-") as tmp:
        path = Path(tmp) / "search-300.db"
        rate = build(path, 300, batch=100, pool_size=20)
        print(f"generated 300 articles: {rate:.0f} articles/s inserted")
        measure(path, 10, above=60)  # some searches answered newest first, as at scale
        grow(Path(tmp), [100, 200], 10, pool_size=20)


def measure(path: Path, queries: int, above: int = NEWEST_FIRST_ABOVE) -> float:
    """Print the archive's size and the p95 of the search queries (answered newest first
    above ``above`` matches, the plugin's default); returns the worst p95."""
    db = ArchiveDatabase(path)
    conn = db.conn
    n = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    size = path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(path.name + "-wal"))
    fts = (
        sum(r[0] for r in conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'articles_fts%'"))
        if _has_dbstat(conn)
        else None
    )
    print(f"page size {conn.execute('PRAGMA page_size').fetchone()[0]}")
    free = conn.execute("PRAGMA freelist_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
    print(
        f"archive: {n} articles, {size / 1e6:.1f} MB, {size / n * 1000 / 1e6:.2f} MB per 1,000 articles"
        + (f" (search index {fts / n * 1000 / 1e6:.2f} MB of it" if fts else " (")
        + f"; free pages {free / n * 1000 / 1e6:.2f} MB, which SQLite reuses)"
    )
    conn.create_function("finews_match", 1, fts_query, deterministic=True)  # as the plugin does
    other = sqlite3.connect(path, check_same_thread=False)
    pool = ThreadPoolExecutor(2)

    def halves(queries):
        futures = [pool.submit(lambda c, q: c.execute(*q).fetchone()[0], c, q) for c, q in zip((conn, other), queries)]
        return [f.result() for f in futures]

    start = time.perf_counter()
    middle = (conn.execute(MIDDLE_DOC_ID_SQL).fetchone() or [None])[0]
    print(
        f"median doc_id: {(time.perf_counter() - start) * 1000:.1f} ms (the plugin keeps it while the archive is unchanged)"
    )
    rng = random.Random(11)
    print(f"{'query':<22}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'median matches':>16}{'newest first':>14}")
    worst = {"first page": 0.0, "count": 0.0}
    for length in (2, 4):
        asked = words(conn, length, queries, rng)
        for q in asked[:5]:
            search_once(conn, halves, middle, q, above)  # warm the cache as a running Datasette would be
        runs = [search_once(conn, halves, middle, q, above) for q in asked]
        for label, column in (("count", 0), ("first page", 1)):
            ms = sorted(r[column] for r in runs)
            p95 = ms[int(len(ms) * 0.95) - 1]
            worst[label] = max(worst[label], p95)
            print(
                f"{length}-char, {label:<12}{statistics.median(ms):10.2f}{p95:9.2f}{ms[-1]:9.2f}"
                f"{statistics.median(r[2] for r in runs):16.0f}{sum(r[3] for r in runs) / len(runs):13.0%}"
            )
    print(
        f"worst p95: first page {worst['first page']:.1f} ms (target < 50 ms: "
        f"{'met' if worst['first page'] < 50 else 'NOT met'}), count {worst['count']:.1f} ms (target < 100 ms: "
        f"{'met' if worst['count'] < 100 else 'NOT met'})",
        flush=True,
    )
    pool.shutdown()
    other.close()
    db.close()
    return worst["first page"]


def grow(out: Path, checkpoints: list[int], queries: int, pool_size: int = 3000) -> None:
    """One archive grown through ``checkpoints`` (article counts), measured at each: how
    size and latency grow. The index is not optimized in between (as in a crawled archive,
    which FTS5 only merges automatically)."""
    path = out / f"search-grow-{checkpoints[-1]}.db"
    for p in out.glob(path.name + "*"):
        p.unlink()
    have = 0
    for target in checkpoints:
        t0 = time.perf_counter()
        rate = build(path, target, start_at=have, optimize=False, pool_size=pool_size)
        print(
            f"\n== {target} articles: generated {target - have} at {rate:.0f} articles/s "
            f"({time.perf_counter() - t0:.0f} s; load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
        have = target
        measure(path, queries)


def _has_dbstat(conn) -> bool:
    try:
        conn.execute("SELECT 1 FROM dbstat LIMIT 1")
        return True
    except Exception:
        return False


if __name__ == "__main__":
    main()
