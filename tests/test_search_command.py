"""``scrapy search`` (a real subprocess) and the function under it, search_archive, on the
quick start's archive."""

from __future__ import annotations

import json
import sqlite3

import pytest

from finews_spider.cleaning import html_to_text
from finews_spider.search import MIDDLE_DOC_ID_SQL, count_matches, count_queries, fts_query, search_archive
from finews_spider.search import results as search_module
from tests.conftest import rows, scrapy


def search(archive, *args):
    return scrapy("search", *args, data_dir=archive, timeout=60)


def containing(archive, word, where=lambda r: True):
    return [
        r
        for r in rows(archive / "finews.db", "SELECT * FROM articles ORDER BY published_at DESC, doc_id DESC")
        if (word in r["title"] or word in html_to_text(r["body_html"]).replace("\n", "")) and where(r)
    ]


@pytest.fixture(scope="module")
def conn(replayed_archive):
    c = sqlite3.connect(replayed_archive / "finews.db")
    yield c
    c.close()


def test_search_archive_newest_first_with_snippets(conn, replayed_archive):
    found = search_archive(conn, "乡村振兴", limit=None)
    assert [r["info_code"] for r in found] == [r["info_code"] for r in containing(replayed_archive, "乡村振兴")]
    assert all("乡村振兴" in r["snippet"] for r in found)
    assert set(found[0]) == {
        "doc_id",
        "info_code",
        "published_at",
        "newspaper",
        "slug",
        "title",
        "share_url",
        "snippet",
    }
    marked = search_archive(conn, "乡村振兴", limit=1, mark=("[", "]"))
    assert "[乡村振兴]" in marked[0]["snippet"]


def test_search_archive_filters(conn, replayed_archive):
    want = containing(replayed_archive, "党建", lambda r: r["slug"] == "shanxiwanbao")
    assert want and [r["info_code"] for r in search_archive(conn, "党建", newspaper="shanxiwanbao")] == [
        r["info_code"] for r in want
    ]
    want = containing(replayed_archive, "十四五", lambda r: "2021-12-21" <= r["published_date"] <= "2021-12-23")
    found = search_archive(conn, "十四五", since="2021-12-21", until="2021-12-23")
    assert len(found) < len(containing(replayed_archive, "十四五"))
    assert want and [r["info_code"] for r in found] == [r["info_code"] for r in want]
    assert len(search_archive(conn, "高质量发展", limit=3)) == 3
    # Further filters are (sql, params) pairs on the articles row.
    found = search_archive(conn, "高质量发展", where=[("source = ?", ("山西晚报",))], limit=None)
    assert found and all(r["newspaper"] == "山西晚报" for r in found)


@pytest.mark.parametrize(
    "words, kwargs",
    [
        ("高质量发展", {}),
        ("十四五", {"newspaper": "shanxiwanbao"}),
        ("发展", {"since": "2021-12-22"}),
        ("党建", {"until": "2021-12-21"}),
        ("的", {"where": [("source = ?", ("山西晚报",))]}),
    ],
)
def test_search_archive_with_a_limit_reads_the_index_in_windows(conn, monkeypatch, words, kwargs):
    """A search with a limit reads the index newest first, window after window, until
    enough articles pass the other filters: the same articles as reading every match."""
    everything = search_archive(conn, words, limit=None, **kwargs)
    assert everything
    monkeypatch.setattr(search_module, "FIRST_WINDOW", 1)  # windows of 2, 8, 32, ... on 34 articles
    for limit in (1, 2, 3, 5, len(everything), len(everything) + 5):
        assert search_archive(conn, words, limit=limit, **kwargs) == everything[:limit]


def test_a_count_in_two_halves_adds_up(conn):
    """The plugin counts a search's matches in two index ranges at once (two cores)."""
    (middle,) = conn.execute(MIDDLE_DOC_ID_SQL).fetchone()
    for words in ("十四五", "党建", "国寿", "量子计算"):
        halves = [conn.execute(sql, params).fetchone()[0] for sql, params in count_queries(fts_query(words), middle)]
        assert sum(halves) == count_matches(conn, words) == len(search_archive(conn, words, limit=None))
        if words == "国寿":  # in every article: the middle splits them
            assert all(halves) and abs(halves[0] - halves[1]) <= 2


def test_search_archive_every_word_must_occur(conn, replayed_archive):
    both = {r["info_code"] for r in containing(replayed_archive, "十四五")} & {
        r["info_code"] for r in containing(replayed_archive, "党建")
    }
    assert {r["info_code"] for r in search_archive(conn, "十四五 党建", limit=None)} == both


@pytest.mark.parametrize(
    "kwargs, says",
    [
        ({"since": "2021-13-01"}, "accepts a date YYYY-MM-DD"),
        ({"until": "yesterday"}, "accepts a date YYYY-MM-DD"),
        ({"since": "20211201"}, "accepts a date YYYY-MM-DD"),  # Python reads it; dates are YYYY-MM-DD everywhere
        ({"since": "2021-12-1"}, "accepts a date YYYY-MM-DD"),
        ({"since": "2021-12-24", "until": "2021-12-01"}, "is after until"),  # as a crawl's window
    ],
)
def test_search_archive_rejects_bad_dates(conn, kwargs, says):
    with pytest.raises(ValueError, match=says):
        search_archive(conn, "党建", **kwargs)


def test_search_archive_rejects_empty_words(conn):
    with pytest.raises(ValueError, match="no words"):
        search_archive(conn, " ，。 ")


def test_command_prints_matches_and_exits_0(replayed_archive):
    result = search(replayed_archive, "十四五", "--limit", "0")
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.strip().split("\n\n")
    want = containing(replayed_archive, "十四五")
    assert len(blocks) == len(want) == 13
    first = blocks[0].splitlines()
    assert first[0] == f"{want[0]['published_at'][:16].replace('T', ' ')}  {want[0]['newspaper']}  {want[0]['title']}"
    assert first[1].strip() == want[0]["share_url"] and "十四五" in first[2]


def test_command_limit_and_note(replayed_archive):
    result = search(replayed_archive, "十四五", "--limit", "2")
    assert result.returncode == 0 and len(result.stdout.strip().split("\n\n")) == 2
    assert "more than 2 matches" in result.stderr


def test_command_json(replayed_archive):
    result = search(replayed_archive, "党建", "--newspaper", "shanxiwanbao", "--json")
    assert result.returncode == 0
    found = json.loads(result.stdout)
    assert found and {r["slug"] for r in found} == {"shanxiwanbao"} and "党建" in found[0]["snippet"]


def test_command_exits_1_when_nothing_matched(replayed_archive):
    result = search(replayed_archive, "量子计算")
    assert result.returncode == 1 and result.stdout == ""
    result = search(replayed_archive, "量子计算", "--json")
    assert result.returncode == 1 and json.loads(result.stdout) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "2021-13-01", "党建"], "accepts a date YYYY-MM-DD"),
        (["--since", "20211201", "党建"], "accepts a date YYYY-MM-DD"),
        (["--since", "2021-12-24", "--until", "2021-12-01", "党建"], "is after until"),
        ([], "no words"),
        (["--bogus", "党建"], "unknown option: --bogus"),
        (["党建", "--limit", "-1"], "not a count"),
    ],
)
def test_command_usage_errors_exit_2(replayed_archive, args, message):
    result = search(replayed_archive, *args)
    assert result.returncode == 2 and message in result.stderr


@pytest.mark.slow
def test_command_missing_or_corrupt_archive(tmp_path):
    result = search(tmp_path, "党建")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"scrapy search: no archive at {tmp_path / 'finews.db'}: run a crawl first"
    ]
    (tmp_path / "finews.db").write_bytes(b"not a database at all" * 100)
    result = search(tmp_path, "党建")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"scrapy search: {tmp_path / 'finews.db'} is not a readable finews archive: not an SQLite database"
    ]


def codes_printed(stdout: str) -> set[str]:
    return {line.strip().rsplit("=", 1)[1] for line in stdout.splitlines() if "infoCode=" in line}


@pytest.mark.parametrize(
    "args, want",
    [
        (["十四五 OR 国寿"], lambda a: containing(a, "十四五") + containing(a, "国寿")),
        (["十四五", "OR", "国寿"], lambda a: containing(a, "十四五") + containing(a, "国寿")),
        (['"高质量 发展"'], lambda a: containing(a, "高质量发展")),
        (
            ["国寿", "-十四五"],
            lambda a: [r for r in containing(a, "国寿") if r not in containing(a, "十四五")],
        ),
    ],
)
def test_command_or_phrases_and_exclusions(replayed_archive, args, want):
    result = search(replayed_archive, *args, "--limit", "0")
    expected = {r["info_code"] for r in want(replayed_archive)}
    assert expected and result.returncode == 0, result.stderr
    assert codes_printed(result.stdout) == expected


@pytest.mark.parametrize(
    "query, problem",
    [("NEAR(十四五 国寿)", "NEAR is not supported"), ("十四五 OR", "OR needs a term on either side")],
)
def test_command_refuses_other_syntax_in_one_line(replayed_archive, query, problem):
    from finews_spider.search import SUPPORTED

    result = search(replayed_archive, query)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"scrapy search: {problem}; {SUPPORTED}"]


def test_command_words_after_a_double_dash(replayed_archive):
    """After --, every argument is a word, even one that looks like an option."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "search", "-s", f"FINEWS_DATA_DIR={replayed_archive}", "--limit", "0"]
        + ["--", "国寿", "-十四五"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    want = {r["info_code"] for r in containing(replayed_archive, "国寿")} - {
        r["info_code"] for r in containing(replayed_archive, "十四五")
    }
    assert result.returncode == 0, result.stderr
    assert want and codes_printed(result.stdout) == want


def test_command_single_letter_options_are_still_options(replayed_archive):
    result = search(replayed_archive, "党建", "-n", "3")
    assert result.returncode == 2 and "unknown option: -n" in result.stderr
