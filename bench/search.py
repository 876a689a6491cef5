#!/usr/bin/env python
"""Chinese search latency on an archive of synthetic articles, as Datasette runs it.

Builds (once, cached under bench/out/) an archive of N synthetic articles by direct
inserts into the archive's own schema (see build: the rows and search-index rows a crawl
writes, in transactions of 20,000; the generation rate is printed), then times the two
queries of Datasette's search page: the first page of matches sorted by date, and the match count.
Query words are drawn from random positions of random articles (so common words are
asked more often, as analysts do), two- and four-character ones separately.

Target: p95 under 50 ms. Also prints the archive's size per 1,000 articles.

    python bench/search.py [--articles 100000] [--queries 200] [--page-size N] [--no-body-text]

``--page-size`` and ``--no-body-text`` are size experiments (a page size other than
SQLite's 4096; ``body_text`` left empty, to measure what not storing it would save).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from finews_spider.cleaning import clean_body, derive_text_fields  # noqa: E402
from finews_spider.archive.database import ArchiveDatabase  # noqa: E402
from finews_spider.registry import Registry  # noqa: E402
from finews_spider.search import fts_query, index_text  # noqa: E402
from tests.synthetic import SENTENCES, make_body  # noqa: E402

BJ = timezone(timedelta(hours=8))
CHARS = sorted(set("".join(SENTENCES)) - set("，。、；：“”（）%.0123456789"))
PAGE_SQL = ("SELECT info_code, title, published_at FROM articles WHERE doc_id IN "
            "(SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?) ORDER BY published_at DESC LIMIT 51")
COUNT_SQL = "SELECT count(*) FROM articles WHERE doc_id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)"


MENTION_POOL = [("stock", "1", "600160", "巨化股份", "SSE"), ("stock", "0", "300343", "联创股份", "SZSE"),
                ("stock", "106", "NIO", "蔚来", "NYSE"), ("board", "90", "BK0493", "新能源", None),
                ("stock", "1", "601628", "中国人寿", "SSE"), ("stock", "116", "00700", "腾讯控股", "HKEX")]
FTS_LOAD_HASHSIZE = 256 * 1024 * 1024
ARTICLE_INSERT_COLUMNS = ["info_code", "doc_id", "title", "published_at", "published_date", "newspaper", "slug",
                          "body_html", "body_text", "source", "editor", "share_url", "fetched_at", "content_hash",
                          "first_seen_at", "last_seen_at"]


def build(path: Path, n: int, batch: int = 20_000, pool_size: int = 3000, page_size: int | None = None,
          store_text: bool = True, start_at: int = 0, optimize: bool = True) -> float:
    """N synthetic articles inserted straight into the archive's own schema (created by
    ArchiveDatabase, so tables, indexes, FTS and marker are the real ones), in
    transactions of ``batch``: the rows, their search-index rows (``index_text``, as a
    crawl writes them), some mentions, the newspapers' counts and the doc_id counter.
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
    pool = [clean_body(make_body(rng, "X", rng.randint(800, 3000), hostile=False), "http://finews.zning.xyz/x", "X").body
            for _ in range(pool_size)]
    pool = [b.replace('<p class="em_media">（文章来源：X）</p>', "") for b in pool]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")  # no WAL growing by a whole batch; WAL again at the end
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    # A large in-memory FTS5 buffer (default 1 MB) while loading: fewer, larger segments to
    # merge; set back to the default before the archive is handed over.
    conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', ?)", (FTS_LOAD_HASHSIZE,))
    start, now = datetime(2020, 1, 1, tzinfo=BJ), datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    insert = (f"INSERT INTO articles ({', '.join(ARTICLE_INSERT_COLUMNS)}) "
              f"VALUES ({', '.join('?' * len(ARTICLE_INSERT_COLUMNS))})")
    t0 = time.perf_counter()
    for first in range(start_at, n, batch):
        rows, fts, mentions = [], [], []
        for i in range(first, min(n, first + batch)):
            paper = papers[rng.randrange(len(papers))]
            noise = "".join(rng.choice(CHARS) for _ in range(rng.randint(20, 80)))
            body = pool[rng.randrange(pool_size)] + f"<p>{noise}。</p><p class=\"em_media\">（文章来源：{paper.name}）</p>"
            code = f"NW{202001010000000000 + i:018d}"
            title = f"{paper.name}{noise[:12]}"
            text, content_hash = derive_text_fields(title, body)
            published = (start + timedelta(minutes=7 * i)).isoformat()
            rows.append((code, i + 1, title, published, published[:10], paper.name, paper.slug, body,
                         text if store_text else "", paper.name,
                         None, f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}", now, content_hash,
                         now, now))
            fts.append((i + 1, index_text(title), index_text(text)))
            if rng.random() < 0.2:
                mentions += [(code, *m, published) for m in rng.sample(MENTION_POOL, rng.randint(1, 3))]
        conn.execute("BEGIN")
        conn.executemany(insert, rows)
        conn.executemany("INSERT INTO articles_fts (rowid, title, body_text) VALUES (?, ?, ?)", fts)
        conn.executemany("INSERT INTO mentions (info_code, kind, market, code, name, exchange, published_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", mentions)
        conn.execute("COMMIT")
        done = min(n, first + batch)
        print(f"  built {done} articles ({(done - start_at) / (time.perf_counter() - t0):.0f}/s)", file=sys.stderr)
    conn.execute("BEGIN")
    conn.execute("UPDATE finews_meta SET value=? WHERE key='last_doc_id'", (n,))
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
    (top,) = conn.execute("SELECT max(doc_id) FROM articles").fetchone()
    out = []
    while len(out) < count:
        (text,) = conn.execute("SELECT body_html FROM articles WHERE doc_id=?", (rng.randint(1, top),)).fetchone()
        text = re.sub(r"<[^>]+>", "", text)  # from the HTML: body_text may be empty (--no-body-text)
        runs = [r for r in re.findall(r"[\u4e00-\u9fff]+", text) if len(r) >= length]
        run = rng.choice(runs)
        i = rng.randrange(len(run) - length + 1)
        out.append(run[i : i + length])
    return out


def timed(conn, sql: str, query: str) -> tuple[float, int]:
    start = time.perf_counter()
    result = conn.execute(sql, (fts_query(query),)).fetchall()
    return (time.perf_counter() - start) * 1000, len(result) if "LIMIT" in sql else result[0][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--page-size", type=int, help="build with this SQLite page size (an experiment)")
    parser.add_argument("--checkpoints", help="grow one archive through these sizes (e.g. 100000,200000,1000000), "
                                              "measuring at each")
    parser.add_argument("--no-body-text", action="store_true", help="leave body_text empty (a size experiment)")
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    if args.checkpoints:
        grow(out, [int(c) for c in args.checkpoints.split(",")], args.queries)
        return
    path = out / (f"search-{args.articles}{f'-p{args.page_size}' if args.page_size else ''}"
                  f"{'-notext' if args.no_body_text else ''}.db")
    if not path.exists():
        print(f"building {path} ...", file=sys.stderr)
        t0 = time.perf_counter()
        rate = build(path, args.articles, page_size=args.page_size, store_text=not args.no_body_text)
        print(f"generated {args.articles} articles: {rate:.0f} articles/s inserted, "
              f"{time.perf_counter() - t0:.0f} s in all (with the FTS optimize)")
    measure(path, args.queries)


def measure(path: Path, queries: int) -> float:
    """Print the archive's size and the p95 of the search queries; returns the worst p95."""
    db = ArchiveDatabase(path)
    conn = db.conn
    n = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    size = path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(path.name + "-wal"))
    fts = sum(r[0] for r in conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'articles_fts%'")) if _has_dbstat(conn) else None
    print(f"page size {conn.execute('PRAGMA page_size').fetchone()[0]}")
    print(f"archive: {n} articles, {size / 1e6:.1f} MB, {size / n * 1000 / 1e6:.2f} MB per 1,000 articles"
          + (f" (search index {fts / n * 1000 / 1e6:.2f} MB of it)" if fts else ""))
    rng = random.Random(11)
    print(f"{'query':<22}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'median matches':>16}")
    worst = 0.0
    for length in (2, 4):
        asked = words(conn, length, queries, rng)
        for label, sql in (("first page", PAGE_SQL), ("count", COUNT_SQL)):
            for q in asked[:5]:
                timed(conn, sql, q)  # warm the cache as a running Datasette would be
            runs = [timed(conn, sql, q) for q in asked]
            ms = sorted(r[0] for r in runs)
            p95 = ms[int(len(ms) * 0.95) - 1]
            worst = max(worst, p95)
            print(f"{length}-char, {label:<12}{statistics.median(ms):10.2f}{p95:9.2f}{ms[-1]:9.2f}"
                  f"{statistics.median(r[1] for r in runs):16.0f}")
    print(f"worst p95: {worst:.1f} ms (target < 50 ms: {'met' if worst < 50 else 'NOT met'})", flush=True)
    db.close()
    return worst


def grow(out: Path, checkpoints: list[int], queries: int) -> None:
    """One archive grown through ``checkpoints`` (article counts), measured at each: how
    size and latency grow. The index is not optimized in between (as in a crawled archive,
    which FTS5 only merges automatically)."""
    path = out / f"search-grow-{checkpoints[-1]}.db"
    for p in out.glob(path.name + "*"):
        p.unlink()
    have = 0
    for target in checkpoints:
        t0 = time.perf_counter()
        rate = build(path, target, start_at=have, optimize=False)
        print(f"\n== {target} articles: generated {target - have} at {rate:.0f} articles/s "
              f"({time.perf_counter() - t0:.0f} s; load average {os.getloadavg()[0]:.1f})", flush=True)
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
