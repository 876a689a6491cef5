"""Snippets are bounded (issue #20): an article of 20 MB costs a snippet, a search and
Datasette's pages what an article of SNIPPET_SCAN characters does. Measured as work, not
time: the characters handed to the HTML-to-text step and to the tokenizer, and the peak
of Python's allocations (tracemalloc)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tracemalloc

import pytest

from finews_spider.datasette_plugin.hooks import sql_snippet
from finews_spider.search import MAX_SPANS, SNIPPET_SCAN, match_spans, search_archive, snippet
from finews_spider.search import snippets as snippets_module
from tests.conftest import rows

WORD = "十四五"
CODE = "NW202112232223130395"  # the newest article with 十四五


@pytest.fixture(scope="module")
def body(replayed_archive) -> str:
    [row] = rows(replayed_archive / "finews.db", "SELECT body_html FROM articles WHERE info_code=?", (CODE,))
    return row["body_html"]


def twenty_mb(body: str) -> str:
    return body * (20_000_000 // len(body.encode("utf-8")) + 1)


@pytest.fixture
def counted(monkeypatch):
    """The characters the snippets hand to html_to_text and to the tokenizer, call by call."""
    seen = {"html_to_text": [], "text_tokens": []}
    for name in seen:
        original = getattr(snippets_module, name)

        def counting(text, *a, _original=original, _name=name, **kw):
            seen[_name].append(len(text))
            return _original(text, *a, **kw)

        monkeypatch.setattr(snippets_module, name, counting)
    return seen


def peak_of(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_20_mb_body_is_cut_before_it_is_read(body, counted):
    big = twenty_mb(body)
    assert len(big.encode("utf-8")) >= 20_000_000
    out = sql_snippet(big, WORD)  # finews_snippet(body_html, words)
    assert f"<mark>{WORD}</mark>" in out and out.endswith("…")
    assert len(counted["html_to_text"]) == 1 and counted["html_to_text"][0] <= SNIPPET_SCAN
    assert sum(counted["text_tokens"]) <= SNIPPET_SCAN
    counted["text_tokens"].clear()
    snippet(big, WORD)  # a plain text, too
    assert sum(counted["text_tokens"]) <= SNIPPET_SCAN


def test_a_20_mb_body_costs_no_more_memory_than_one_of_the_bound(body):
    big = twenty_mb(body)
    at_the_bound = (body * (SNIPPET_SCAN // len(body) + 1))[:SNIPPET_SCAN]
    sql_snippet(at_the_bound, WORD)  # (warm: the regular expressions, the translation tables)
    bounded = peak_of(lambda: sql_snippet(at_the_bound, WORD))
    large = peak_of(lambda: sql_snippet(big, WORD))
    assert large <= 1.2 * bounded + 64 * 1024, (large, bounded)
    assert large < 4_000_000  # (it was 1.3 GB: a token tuple per character)


def test_the_spans_of_one_snippet_are_bounded():
    text = "党，" * 4000
    assert len(match_spans(text, "党")) == MAX_SPANS
    assert snippet(text, "党", fragments=3, context=2, mark=("[", "]"), escape=str).count("[") <= 3 * MAX_SPANS


def archive_with(replayed_archive, folder, new_body: str):
    """A copy of the quick start's archive whose newest article with 十四五 has ``new_body``."""
    path = folder / "finews.db"
    source, copy = sqlite3.connect(replayed_archive / "finews.db"), sqlite3.connect(path)
    source.backup(copy)
    source.close()
    with copy:
        copy.execute("UPDATE articles SET body_html=? WHERE info_code=?", (new_body, CODE))
    copy.close()
    return path


@pytest.fixture(scope="module")
def large_archive(replayed_archive, tmp_path_factory, body):
    return archive_with(replayed_archive, tmp_path_factory.mktemp("large"), twenty_mb(body))


@pytest.fixture(scope="module")
def bound_archive(replayed_archive, tmp_path_factory, body):
    """The same article with a body of exactly SNIPPET_SCAN characters."""
    return archive_with(replayed_archive, tmp_path_factory.mktemp("bound"), twenty_mb(body)[:SNIPPET_SCAN])


def test_a_search_that_finds_a_20_mb_article_costs_what_one_of_the_bound_does(
    replayed_archive, large_archive, bound_archive, counted
):
    normal, large, bound = (sqlite3.connect(p) for p in (replayed_archive / "finews.db", large_archive, bound_archive))
    assert [r["info_code"] for r in search_archive(large, WORD)] == [
        r["info_code"] for r in search_archive(normal, WORD)
    ]
    counted["text_tokens"].clear()
    found = search_archive(large, WORD, limit=None)
    assert sum(counted["text_tokens"]) <= len(found) * SNIPPET_SCAN
    search_archive(bound, WORD)  # (warm)
    at_the_bound = peak_of(lambda: search_archive(bound, WORD))
    with_large = peak_of(lambda: search_archive(large, WORD))
    assert with_large <= 1.1 * at_the_bound + 128 * 1024, (with_large, at_the_bound)
    assert with_large < 8_000_000  # (it was 1.3 GB)
    for conn in (normal, large, bound):
        conn.close()


def test_datasette_pages_that_show_a_20_mb_article(large_archive, body):
    """The canned query hands finews_snippet() the start of the body only (substr in its
    SQL): its cost is that of any page. The results page gets the whole body from
    Datasette (its query selects the column; no hook changes that), which decodes it
    once: a few times its 20 MB while that string is made, not the 1.3 GB of
    tokenizing it."""
    from datasette.app import Datasette

    ds = Datasette([str(large_archive)])

    def page(path):
        response = asyncio.run(ds.client.get(path))
        text = json.dumps(response.json(), ensure_ascii=False) if ".json" in path else response.text
        assert response.status_code == 200 and f"<mark>{WORD}</mark>" in text

    page(f"/finews/search.json?q={WORD}")  # warm: the first request inspects the database
    canned = peak_of(lambda: page(f"/finews/search.json?q={WORD}"))
    assert canned < 4_000_000, canned
    results = peak_of(lambda: page(f"/finews/articles?_search={WORD}"))
    utf8 = len(twenty_mb(body).encode("utf-8"))
    assert results < 5 * utf8, (results, utf8)  # (it was 1.3 GB)
