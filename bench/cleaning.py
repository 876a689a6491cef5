"""Cleaning throughput on one core: a few thousand realistic bodies of 5-20 KB.

Prints articles per second for the whole body rule (sanitize, tidy, credits) and for
each stage, so a regression can be traced. Target: at least 1,000 articles/s.

    python -m bench.cleaning [--articles 3000] [--tiny]
"""

from __future__ import annotations

import argparse
import os
import random
import time

from finews_spider.cleaning import clean_body, html_to_text, sanitize_html, split_credits, tidy_paragraphs
from tests.synthetic import make_body

BASE = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW1"


def corpus(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    # make_body counts characters of text; 5-20 KB of UTF-8 is about 1,700-6,700 of them.
    return [
        make_body(rng, rng.choice(["山西晚报", "陕西日报", "海南特区报"]), rng.randint(2000, 6500)) for _ in range(n)
    ]


def rate(fn, items) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--tiny", action="store_true", help="toy sizes, in seconds: checks the script runs")
    args = parser.parse_args()
    if args.tiny:
        args.articles = 30
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    bodies = corpus(args.articles)
    sizes = sorted(len(b.encode("utf-8")) for b in bodies)
    print(f"bodies: {len(bodies)}, size min/median/max: {sizes[0]}/{sizes[len(sizes) // 2]}/{sizes[-1]} bytes")
    sanitized = [sanitize_html(b, BASE) for b in bodies]
    tidied = [tidy_paragraphs(s) for s in sanitized]
    total = rate(lambda b: clean_body(b, BASE, "山西晚报"), bodies)
    print(f"sanitize (nh3):      {rate(lambda b: sanitize_html(b, BASE), bodies):10.0f} articles/s")
    print(f"tidy paragraphs:     {rate(tidy_paragraphs, sanitized):10.0f} articles/s")
    print(f"split credits:       {rate(split_credits, tidied):10.0f} articles/s")
    print(f"html_to_text:        {rate(html_to_text, tidied):10.0f} articles/s")
    print(
        f"clean_body (total):  {total:10.0f} articles/s on one core  (target >= 1000: {'met' if total >= 1000 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
