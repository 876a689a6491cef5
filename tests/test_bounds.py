"""Bounds where the input is unbounded: an answer larger than DOWNLOAD_MAXSIZE (inflated
too) and a redirect to another host are not archived; the article is dropped with its
reason and the rest of the run goes on (real crawls against the loopback upstream)."""

from __future__ import annotations

import time

from tests.conftest import crawl, rows


def _first_code(upstream) -> str:
    return upstream.feeds["37"]["record"][0]["infoCode"]


def test_a_redirect_to_another_host_is_not_followed(upstream, tmp_path):
    code = _first_code(upstream)
    elsewhere = upstream.base.replace("127.0.0.1", "127.0.0.2") + f"/NewsData/GetNewsText.do?id={code}"
    upstream.faults[f"text:{code}"] = [("redirect", elsewhere)]
    result = crawl("finews", tmp_path, upstream)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'finews/dropped/offsite_redirect': 1" in result.stderr
    assert f"article {code} dropped (offsite_redirect)" in result.stderr
    assert upstream.count(f"text:{code}") == 1  # the redirect was never followed
    archived = {r["info_code"] for r in rows(tmp_path / "finews.db", "SELECT info_code FROM articles")}
    assert code not in archived and len(archived) == 33


def test_an_answer_that_inflates_past_the_limit_is_dropped_without_filling_memory(upstream, tmp_path):
    code = _first_code(upstream)
    upstream.faults[f"text:{code}"] = [("gzip-bomb", 40 * 1024 * 1024)]  # 40 MB of spaces, ~40 KB sent
    started = time.monotonic()
    result = crawl("finews", tmp_path, upstream, settings={"DOWNLOAD_MAXSIZE": str(4 * 1024 * 1024)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'finews/dropped/too_large': 1" in result.stderr
    assert time.monotonic() - started < 60
    archived = {r["info_code"] for r in rows(tmp_path / "finews.db", "SELECT info_code FROM articles")}
    assert code not in archived and len(archived) == 33
    again = crawl("finews", tmp_path, upstream)  # the next run fetches it again, and archives it
    assert again.returncode == 0 and code in {
        r["info_code"] for r in rows(tmp_path / "finews.db", "SELECT info_code FROM articles")
    }


def test_a_record_dated_year_9999_is_dropped_and_the_rest_archived(upstream, tmp_path):
    """One record's date out of range drops that record (finews/dropped/date); the run is
    ok and a later run is not failed by it either."""
    record = upstream.feeds["37"]["record"][0]
    upstream.texts[record["infoCode"]] = {**upstream.texts[record["infoCode"]], "showtime": "9999-12-31 23:00:00"}
    record["datetime"] = record["showtime"] = "9999-12-31 23:00:00"
    for _ in range(2):
        result = crawl("finews", tmp_path, upstream)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "OverflowError" not in result.stderr
    archived = {r["info_code"] for r in rows(tmp_path / "finews.db", "SELECT info_code FROM articles")}
    assert record["infoCode"] not in archived and len(archived) == 33
