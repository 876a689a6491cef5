"""Requests sent by a second run over an unchanged feed of 300 articles, beside what
fetching everything sends (the old system's behaviour, ``-a refresh=1`` here).

Real ``scrapy crawl`` runs against a loopback upstream. Target: the second run sends
only the feed requests.

    python -m bench.second_run [--articles 300] [--tiny]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.conftest import crawl
from tests.synthetic import make_corpus
from tests.upstream_server import Upstream


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--tiny", action="store_true", help="toy sizes, in seconds: checks the script runs")
    args = parser.parse_args()
    if args.tiny:
        args.articles = 9
    papers = [
        ("山西晚报", args.articles // 3),
        ("陕西日报", args.articles // 3),
        ("海南特区报", args.articles - 2 * (args.articles // 3)),
    ]
    records, texts = make_corpus(papers, seed=5)
    feeds = {"37": {"record": records[0::3]}, "38": {"record": records[1::3]}, "39": {"record": records[2::3]}}
    upstream = Upstream(feeds, texts).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp)
            runs = [
                ("first run (empty archive)", ()),
                ("second run, unchanged feed", ()),
                ("fetch everything (refresh=1)", ("-a", "refresh=1")),
            ]
            print(f"feed of {len(records)} articles in 3 market types")
            print(f"{'run':<32}{'feed requests':>15}{'text requests':>15}{'total':>8}{'exit':>6}")
            totals = []
            for label, extra in runs:
                upstream.requests.clear()
                result = crawl("finews", data, upstream, *extra, settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "8"})
                feeds_n, texts_n = upstream.count("feed:"), upstream.count("text:")
                totals.append(feeds_n + texts_n)
                print(f"{label:<32}{feeds_n:>15}{texts_n:>15}{feeds_n + texts_n:>8}{result.returncode:>6}")
            met = totals[1] == 3
            print(
                f"second run sends {totals[1]} requests vs {totals[2]} when fetching everything "
                f"(target: only the 3 feed requests: {'met' if met else 'NOT met'})"
            )
    finally:
        upstream.stop()


if __name__ == "__main__":
    main()
