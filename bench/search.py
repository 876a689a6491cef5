#!/usr/bin/env python
"""Chinese search latency on an archive of synthetic articles, as Datasette runs it.

Builds (once, cached under bench/out/) an archive of N synthetic articles through
ArchiveDatabase.save_article (the code path of a crawl), then times the two queries of
Datasette's search page: the first page of matches sorted by date, and the match count.
Query words are drawn from random positions of random articles (so common words are
asked more often, as analysts do), two- and four-character ones separately.

Target: p95 under 50 ms. Also prints the archive's size per 1,000 articles.

    python bench/search.py [--articles 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from finews_spider.cleaning import clean_body  # noqa: E402
from finews_spider.archive.database import ArchiveDatabase  # noqa: E402
from finews_spider.registry import Registry  # noqa: E402
from finews_spider.search import fts_query  # noqa: E402
from tests.synthetic import SENTENCES, make_body  # noqa: E402

BJ = timezone(timedelta(hours=8))
CHARS = sorted(set("".join(SENTENCES)) - set("，。、；：“”（）%.0123456789"))
PAGE_SQL = ("SELECT info_code, title, published_at FROM articles WHERE doc_id IN "
            "(SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?) ORDER BY published_at DESC LIMIT 51")
COUNT_SQL = "SELECT count(*) FROM articles WHERE doc_id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)"


def build(path: Path, n: int) -> None:
    rng = random.Random(7)
    papers = Registry.load().papers
    db = ArchiveDatabase(path)
    db.sync_newspapers(papers)
    start, t0 = datetime(2020, 1, 1, tzinfo=BJ), time.perf_counter()
    db.conn.execute("BEGIN")
    for i in range(n):
        paper = papers[rng.randrange(len(papers))]
        # Newspaper prose plus a sentence of rarer words, so that words have a realistic
        # spread of frequencies (a few very common, most rare).
        noise = "".join(rng.choice(CHARS) for _ in range(rng.randint(20, 80)))
        raw = make_body(rng, paper.name, rng.randint(800, 3000), hostile=False) + f"<p>{noise}。</p>"
        body, credits = clean_body(raw, "http://finews.zning.xyz/x", paper.name)
        code = f"NW{202001010000000000 + i:018d}"
        title = f"{paper.name}{noise[:12]}"
        text, content_hash = derive_text_fields(title, body)
        db.save_article({
            "info_code": code, "title": title, "body_text": text, "content_hash": content_hash, "published_at": start + timedelta(minutes=7 * i),
            "newspaper": paper.name, "slug": paper.slug, "body_html": body, "source": credits.source,
            "share_url": f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}",
            "fetched_at": datetime.now(timezone.utc),
        }, datetime.now(timezone.utc))
        if i % 5000 == 4999:
            db.conn.execute("COMMIT")
            db.conn.execute("BEGIN")
            print(f"  built {i + 1} articles ({(i + 1) / (time.perf_counter() - t0):.0f}/s)", file=sys.stderr)
    db.conn.execute("COMMIT")
    db.conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('optimize')")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def words(conn, length: int, count: int, rng: random.Random) -> list[str]:
    (top,) = conn.execute("SELECT max(doc_id) FROM articles").fetchone()
    out = []
    while len(out) < count:
        (text,) = conn.execute("SELECT body_text FROM articles WHERE doc_id=?", (rng.randint(1, top),)).fetchone()
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
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"search-{args.articles}.db"
    if not path.exists():
        print(f"building {path} ...", file=sys.stderr)
        build(path, args.articles)
    db = ArchiveDatabase(path)
    conn = db.conn
    n = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    size = path.stat().st_size
    fts = sum(r[0] for r in conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'articles_fts%'")) if _has_dbstat(conn) else None
    print(f"archive: {n} articles, {size / 1e6:.1f} MB, {size / n * 1000 / 1e6:.2f} MB per 1,000 articles"
          + (f" (search index {fts / n * 1000 / 1e6:.2f} MB of it)" if fts else ""))
    rng = random.Random(11)
    print(f"{'query':<22}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'median matches':>16}")
    worst = 0.0
    for length in (2, 4):
        queries = words(conn, length, args.queries, rng)
        for label, sql in (("first page", PAGE_SQL), ("count", COUNT_SQL)):
            for q in queries[:5]:
                timed(conn, sql, q)  # warm the cache as a running Datasette would be
            runs = [timed(conn, sql, q) for q in queries]
            ms = sorted(r[0] for r in runs)
            p95 = ms[int(len(ms) * 0.95) - 1]
            worst = max(worst, p95)
            print(f"{length}-char, {label:<12}{statistics.median(ms):10.2f}{p95:9.2f}{ms[-1]:9.2f}"
                  f"{statistics.median(r[1] for r in runs):16.0f}")
    print(f"worst p95: {worst:.1f} ms (target < 50 ms: {'met' if worst < 50 else 'NOT met'})")
    db.close()


def _has_dbstat(conn) -> bool:
    try:
        conn.execute("SELECT 1 FROM dbstat LIMIT 1")
        return True
    except Exception:
        return False


if __name__ == "__main__":
    main()
