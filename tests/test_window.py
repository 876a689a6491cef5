"""Backfills by date: ``-a since=YYYY-MM-DD -a until=YYYY-MM-DD`` (inclusive, Beijing dates)
archive only the articles published in the window; the others are counted and skipped."""

from __future__ import annotations

from datetime import date

import pytest

from finews_spider.exceptions import SpiderArgumentError
from finews_spider.spiders.base import in_window, parse_refresh, parse_window
from tests.conftest import crawl, posts

# Dates given to the sample's records, in turn: Beijing wall-clock times, and two instants
# with an offset whose Beijing date differs from their UTC date.
DATES = [
    "2021-12-18 23:59:59",  # the day before the window
    "2021-12-19 00:00:00",  # its first second
    "2021-12-20 12:00:00",
    "2021-12-21 23:59:59",  # its last second
    "2021-12-22 00:00:00",  # the day after
    "2021-12-18T17:00:00Z",  # = 2021-12-19 01:00 in Beijing: inside
    "2021-12-21T16:30:00Z",  # = 2021-12-22 00:30 in Beijing: outside
]
INSIDE = {1, 2, 3, 5}


def dated(upstream) -> dict[str, bool]:
    """Give the upstream's records the dates above; infoCode -> inside the window."""
    inside, n = {}, 0
    for feed in upstream.feeds.values():
        for record in feed.get("record") or feed.get("nodeList"):
            code = record.get("infoCode") or record.get("infocode")
            if code not in inside:
                inside[code] = n % len(DATES) in INSIDE
                n += 1
            when = DATES[[*inside].index(code) % len(DATES)]
            record.pop("showtime", None)
            record["datetime"] = when
    return inside


def test_only_the_window_is_archived_and_the_rest_counted(upstream, tmp_path):
    inside = dated(upstream)
    result = crawl("finews", tmp_path, upstream, "-a", "since=2021-12-19", "-a", "until=2021-12-21")
    assert result.returncode == 0, result.stderr[-3000:]
    archived = {name.split("-", 3)[3].removesuffix(".md") for name in posts(tmp_path)}
    expected = {code for code, ok in inside.items() if ok}
    assert archived == expected and 0 < len(expected) < len(inside)
    assert f"'finews/records_outside_window': {len(inside) - len(expected)}" in result.stderr
    fetched = {key.split(":", 1)[1] for key in upstream.requests if key.startswith("text:")}
    assert fetched == expected  # records outside the window are not even fetched


def test_one_sided_windows(upstream, tmp_path):
    inside = dated(upstream)
    result = crawl("finews", tmp_path / "since", upstream, "-a", "since=2021-12-22")
    assert result.returncode == 0, result.stderr[-3000:]
    later = {name.split("-", 3)[3].removesuffix(".md") for name in posts(tmp_path / "since")}
    codes = [*inside]
    assert later == {c for i, c in enumerate(codes) if i % len(DATES) in (4, 6)}


def test_a_share_link_is_checked_against_the_date_its_text_gives(upstream, tmp_path):
    code = "NW202112232223130395"
    upstream.texts[code] = {
        **upstream.texts[code],
        "title": "标题",
        "showtime": "2021-12-23 07:25:33",
        "medianame": "山西晚报",
    }
    link = f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}"
    outside = crawl("finews", tmp_path / "out", upstream, "-a", f"urls={link}", "-a", "until=2021-12-22")
    assert outside.returncode == 0, outside.stderr[-3000:]
    assert posts(tmp_path / "out") == {} and "'finews/records_outside_window': 1" in outside.stderr
    inside = crawl(
        "finews", tmp_path / "in", upstream, "-a", f"urls={link}", "-a", "since=2021-12-23", "-a", "until=2021-12-23"
    )
    assert inside.returncode == 0, inside.stderr[-3000:]
    assert list(posts(tmp_path / "in")) == [f"2021-12-23-{code}.md"]
    assert "records_outside_window" not in inside.stderr


@pytest.mark.parametrize(
    "since, until",
    [
        ("2021-12-1", None),
        ("20211201", None),
        ("2021-02-30", None),
        (None, "yesterday"),
        (None, " "),
        ("2021-12-02", "2021-12-01"),
    ],
)
def test_bad_windows_are_usage_errors(since, until):
    with pytest.raises(SpiderArgumentError):
        parse_window(since, until)


def test_window_bounds_are_inclusive():
    since, until = parse_window(" 2021-12-19", "2021-12-21")
    assert [in_window(date(2021, 12, d), since, until) for d in (18, 19, 21, 22)] == [False, True, True, False]
    assert parse_window(None, None) == (None, None)


@pytest.mark.parametrize("word", ["banana", "", "2", "y"])
def test_refresh_must_be_a_boolean_word(word):
    with pytest.raises(SpiderArgumentError, match="refresh="):
        parse_refresh(word)
    assert parse_refresh("ON") is True and parse_refresh("no") is False and parse_refresh(None) is None
