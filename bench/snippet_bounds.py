#!/usr/bin/env python
"""What one very large article costs a search: time and peak Python memory (tracemalloc)
of a snippet and of searches whose results include it, beside the same on the quick
start's archive as it is.

Makes the quick start's archive under bench/out/snippets/ (a replayed crawl, once), copies
it, and gives the newest article containing the word (十四五) a body of ``--size-mb`` MB
(its own body, repeated: the word occurs all through it). Then, for the archive as it
is and for the copy, measures

- ``finews_snippet(body_html, word)``, the plugin's SQL function, on that article's body;
- ``search_archive(conn, word)``, the first 20 results (what ``scrapy search`` prints);
- Datasette's results page (``/DB/articles?_search=word``) and the canned query
  (``/DB/search.json?q=word``), through Datasette's in-process client, the plugin
  loaded as installed.

    python -m bench.snippet_bounds [--size-mb 20] [--repeat 3] [--tiny]

Run it from the checkout to measure (``python -m`` imports the package of the folder it is
run from; e.g. a ``git worktree`` of an older commit measures that version).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORD = "十四五"


def quick_start_archive(out: Path) -> Path:
    folder = out / "snippets"
    db = folder / "finews.db"
    if not db.exists():
        subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "finews"]
            + [
                "-s",
                f"FINEWS_REPLAY={ROOT / 'data' / 'sample' / 'upstream.warc.gz'}",
                "-s",
                f"FINEWS_DATA_DIR={folder}",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    return db


def with_a_large_article(db: Path, target: Path, size_mb: float) -> tuple[str, int]:
    """A copy of ``db`` at ``target`` whose newest article with WORD has a body of
    ``size_mb`` MB (UTF-8); returns its info_code and body length in characters."""
    source, copy = sqlite3.connect(db), sqlite3.connect(target)
    source.backup(copy)
    source.close()
    code, body = next(
        (c, b) for c, b in copy.execute("SELECT info_code, body_html FROM articles ORDER BY doc_id DESC") if WORD in b
    )
    times = int(size_mb * 1e6 / len(body.encode("utf-8"))) + 1
    big = body * times
    with copy:
        copy.execute("UPDATE articles SET body_html = ? WHERE info_code = ?", (big, code))
    copy.close()
    return code, len(big)


def measure(fn, repeat: int) -> tuple[float, float]:
    """(median seconds of ``repeat`` runs, peak MB of Python allocations in one more run,
    under tracemalloc, which slows allocations down: the times are taken without it)."""
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return statistics.median(seconds), peak


def sql_snippet_function():
    import finews_spider.datasette_plugin as plugin

    return getattr(plugin, "sql_snippet", None) or plugin.hooks.sql_snippet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="a 1 MB article, once (the suite's run)")
    args = parser.parse_args()
    if args.tiny:
        args.size_mb, args.repeat = 1, 1
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    normal = quick_start_archive(out)
    work = out / "snippets-large"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    large = work / "large.db"
    code, chars = with_a_large_article(normal, large, args.size_mb)

    from datasette.app import Datasette

    from finews_spider.search import search_archive

    sql_snippet = sql_snippet_function()
    print(f"the large article: {code}, {chars:,} characters ({args.size_mb:g} MB of UTF-8); word {WORD}")
    print(f"{'':62}{'median s':>10}{'peak MB':>10}")
    for label, db in (("as it is", normal), ("one article large", large)):
        conn = sqlite3.connect(db)
        (body,) = conn.execute("SELECT body_html FROM articles WHERE info_code = ?", (code,)).fetchone()
        ds = Datasette([str(db)])
        name = db.stem

        def page(path, ds=ds):
            response = asyncio.run(ds.client.get(path))
            assert response.status_code == 200, response.text[:500]

        runs = [
            ("finews_snippet(body_html, word)", lambda body=body: sql_snippet(body, WORD)),
            ("search_archive(conn, word), 20 results", lambda conn=conn: search_archive(conn, WORD)),
            ("Datasette results page ?_search=word", lambda name=name: page(f"/{name}/articles?_search={WORD}")),
            ("Datasette canned query search.json?q=word", lambda name=name: page(f"/{name}/search.json?q={WORD}")),
        ]
        page(f"/{name}/articles?_search={WORD}")  # warm: Datasette's first request inspects the database
        for what, fn in runs:
            seconds, peak = measure(fn, args.repeat)
            print(f"{label:18}{what:44}{seconds:10.3f}{peak:10.1f}", flush=True)
        del body
        conn.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
