"""A short soak (``bench/soak.py``, 40 runs, fixed seed): faults, kills, overlapping runs
and a changing upstream; no dishonest exit, and the final archive equals a fault-free
crawl of the final upstream."""

import pytest

from bench.soak import soak

pytestmark = pytest.mark.slow  # every test here starts processes (docs/testing.md)


def test_forty_runs_are_honest_and_end_in_the_clean_archive(tmp_path):
    report = soak(40, seed=14, work=tmp_path, log=lambda line: None)
    text = "\n".join(report.lines())
    assert report.dishonest == [], text
    assert report.final.startswith("equal"), text
    assert report.runs >= 41 and sum(report.faults.values()) >= 10 and sum(report.kills.values()) >= 1, text
    assert report.statuses["ok"] and report.statuses["failed"], text
