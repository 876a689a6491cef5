"""Every benchmark runs at a toy size, so none rots between the runs that measure: each
script of ``bench/`` as a user runs it (``python -m bench.NAME --tiny``, in a subprocess
from the checkout) exits 0 and prints its figures. The figures of a toy run mean nothing;
docs/benchmarks.md holds the measured ones."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT, find_tool, require_tool

pytestmark = pytest.mark.slow

# Each script: what its output shows, one pattern per part of the benchmark.
FIGURES = {
    "cleaning": [r"clean_body \(total\): +\d+ articles/s"],
    "search": [
        r"generated 300 articles: \d+ articles/s",
        r"2-char, first page +[\d.]+ +[\d.]+",
        r"worst p95: first page [\d.]+ ms .*count [\d.]+ ms",
        r"== 200 articles: generated 100",  # the growth through checkpoints
    ],
    "datasette_serve": [r"results page \(HTML\) +scrapy serve +[\d.]+", r"plain / scrapy +[\d.]+"],
    "import": [r"import: 60 posts read", r"run 1: [\d,]+ posts/s"],
    "second_run": [r"second run, unchanged feed +3 +0 +3 +0", r"second run sends 3 requests"],
    "reextract": [r"^ +30 +empty .* \d+$", r"^ +60 +existing .* \d+$", r"peak memory 60 vs 30 articles: [-+]\d+%"],
    "distributed": [
        r"single machine \(no Redis\).* articles/s, exit 0",
        r"^ +2 +[\d.]+ +[\d.]+ +[\d.]+x",
        r"default politeness, 6 articles: one machine [\d.]+ requests/s",
    ],
    "site": [r"ours: build_site, empty dir +40 +[\d.]+", r"ours: update_site, 5 new articles +45"],
    "soak": [r"runs: \d+", r"dishonest exits: 0", r"final archive: equal"],
    "snippet_bounds": [
        r"the large article: NW\d+",
        r"one article large +finews_snippet\(body_html, word\) +[\d.]+ +[\d.]+",
    ],
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_the_bench_runs_tiny_and_prints_its_figures(name):
    if name == "distributed":
        require_tool("redis-server")
    expected = list(FIGURES[name])
    if name == "site" and find_tool("jekyll") is not None:  # Hugo, not a Debian dependency here, is left out
        expected.append(r"Jekyll .* +20 +[\d.]+ ")
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--tiny"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    for pattern in expected:
        assert re.search(pattern, result.stdout, re.MULTILINE), f"{pattern!r} not in:\n{result.stdout[-3000:]}"
