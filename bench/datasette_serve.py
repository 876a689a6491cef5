"""Search through plain ``datasette serve`` is as fast as through ``scrapy serve``.

Builds (or reuses) the synthetic archive of bench/search.py, copies it under another file
name, then starts both servers at once, each on its own port:

- ``scrapy serve`` of the archive (``FINEWS_DATA_DIR`` = its folder), and
- plain ``datasette serve COPY.db`` (no metadata, no options: the plugin from the
  installed package's entry point),

and times the same search requests against each, alternating between them so both see
the same machine load: the results page (HTML, first 50 matches with snippets) and the
JSON of the first page. Target: plain datasette within 10% of scrapy serve (they run the
same plugin, so any difference is noise or a wrong setup).

    python -m bench.datasette_serve [--articles 20000] [--queries 100] [--tiny]
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.search import build, words

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(base: str, proc: subprocess.Popen) -> None:
    for _ in range(600):
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=1)
            return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {proc.args}") from None
            time.sleep(0.1)
    raise SystemExit(f"server did not start: {proc.args}")


def fetch_ms(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()
        assert response.status == 200
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--tiny", action="store_true", help="toy sizes, in seconds: checks the script runs")
    args = parser.parse_args()
    if args.tiny:
        args.articles, args.queries = 300, 10
        with tempfile.TemporaryDirectory(prefix="finews-bench-serve-") as tmp:
            run(args, Path(tmp), pool_size=20)
        return
    run(args, ROOT / "bench" / "out")


def run(args: argparse.Namespace, out: Path, pool_size: int = 3000) -> None:
    """The benchmark, with the synthetic archive built (or reused) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    source = out / f"search-{args.articles}.db"
    if not source.exists():
        print(f"building {source} ...", file=sys.stderr)
        build(source, args.articles, pool_size=pool_size)
    served = out / f"serve-{args.articles}"
    served.mkdir(exist_ok=True)
    shutil.copyfile(source, served / "finews.db")
    shutil.copyfile(source, served / "renamed-copy.db")
    conn = sqlite3.connect(source)
    rng = random.Random(5)
    queries = words(conn, 2, args.queries // 2, rng) + words(conn, 4, args.queries - args.queries // 2, rng)
    conn.close()

    p1, p2 = free_port(), free_port()
    scrapy_serve = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "serve", "--port", str(p1), "-s", f"FINEWS_DATA_DIR={served}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    plain = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", str(served / "renamed-copy.db"), "-p", str(p2)],
        cwd=served,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        targets = {
            "scrapy serve": f"http://127.0.0.1:{p1}/finews",
            "plain datasette": f"http://127.0.0.1:{p2}/renamed-copy",
        }
        for base, proc in zip(targets.values(), (scrapy_serve, plain)):
            wait(base.rsplit("/", 1)[0], proc)
        pages = {
            "results page (HTML)": "/articles?_search={q}",
            "first page (JSON)": "/articles.json?_search={q}&_size=50",
        }
        times = {(name, page): [] for name in targets for page in pages}
        for q in queries[:5]:  # warm up both
            for base in targets.values():
                fetch_ms(base + pages["results page (HTML)"].format(q=urllib.parse.quote(q)))
        for q in queries:
            for page, path in pages.items():
                for name, base in list(targets.items()) if rng.random() < 0.5 else list(targets.items())[::-1]:
                    times[(name, page)].append(fetch_ms(base + path.format(q=urllib.parse.quote(q))))
    finally:
        for proc in (scrapy_serve, plain):
            proc.terminate()
            proc.wait(10)
    print(f"{args.articles} articles, {len(queries)} queries (2- and 4-character words)")
    print(f"{'page':<22}{'server':<18}{'median ms':>10}{'p95 ms':>9}")
    for page in pages:
        medians = {}
        for name in targets:
            ms = sorted(times[(name, page)])
            medians[name] = statistics.median(ms)
            print(f"{page:<22}{name:<18}{medians[name]:10.1f}{ms[int(len(ms) * 0.95) - 1]:9.1f}")
        ratio = medians["plain datasette"] / medians["scrapy serve"]
        print(
            f"{'':<22}{'plain / scrapy':<18}{ratio:10.2f}  ({'within 10%' if abs(ratio - 1) <= 0.10 else 'NOT within 10%'})"
        )


if __name__ == "__main__":
    main()
