"""Datasette over an archive made by a real crawl: search, facets, canned queries, the
rendered body. Uses Datasette's own test client, in this process; the plugin is the one
Datasette loads from the installed package's entry point (tests/test_datasette_plugin.py
runs the same through ``datasette serve``)."""

import asyncio

import pytest
import yaml
from datasette.app import Datasette

from finews_spider.cleaning import html_to_text
from tests.conftest import rows


@pytest.fixture(scope="module")
def get(sample_archive):
    metadata = yaml.safe_load((sample_archive / "metadata.yml").read_text("utf-8"))
    ds = Datasette([str(sample_archive / "finews.db")], metadata=metadata)

    def fetch(path, **params):
        return asyncio.run(ds.client.get(path, params=params or None))

    return fetch


def expected(sample_archive, word):
    return sorted(
        r["info_code"]
        for r in rows(sample_archive / "finews.db", "SELECT info_code, title, body_html FROM articles")
        if word in r["title"] or word in html_to_text(r["body_html"]).replace("\n", "")
    )


def searched(get, word):
    response = get("/finews/articles.json", _search=word, _shape="array", _col="info_code", _size="max")
    assert response.status_code == 200, response.text
    return sorted(r["info_code"] for r in response.json())


@pytest.mark.parametrize("word", ["国寿", "地铁", "人寿", "高质量发展", "山西全方位推动高质量发展", "海南", "大河"])
def test_search_box_finds_exactly_the_articles_containing_the_word(get, sample_archive, word):
    want = expected(sample_archive, word)
    assert want, f"sample has no article with {word}"
    assert searched(get, word) == want


def test_search_for_missing_word_finds_nothing(get):
    assert searched(get, "不存在的词语") == []
    assert searched(get, "量子计算") == []


def test_search_page_html(get):
    response = get("/finews/articles", _search="地铁")
    assert response.status_code == 200
    assert 'name="_search"' in response.text and "地铁" in response.text


def test_facets_on_newspaper_and_date(get):
    response = get("/finews/articles.json", _facet="newspaper", _size="0", _extra="facet_results")
    facets = response.json()["facet_results"]
    results = facets["results"]["newspaper"]["results"] if "results" in facets else facets["newspaper"]["results"]
    counts = {r["value"]: r["count"] for r in results}
    assert counts["山西晚报"] == 7 and counts["运城日报"] == 2 and sum(counts.values()) == 34
    response = get("/finews/articles.json", published_date="2021-12-23", _shape="array", _col="info_code")
    assert "NW202112232223130395" in [r["info_code"] for r in response.json()]


def test_canned_queries(get):
    response = get("/finews/latest_by_newspaper.json", slug="shanxiwanbao", _shape="array")
    assert response.status_code == 200
    latest = response.json()
    assert len(latest) == 7 and latest[0]["published_at"] >= latest[-1]["published_at"]
    response = get("/finews/daily_counts.json", _shape="array")
    assert sum(r["articles"] for r in response.json()) == 34
    response = get("/finews/changed_since.json", since="2000-01-01", _shape="array")
    assert response.status_code == 200 and response.json() == []


def test_article_page_renders_body_as_html(get):
    response = get("/finews/articles/NW202112232223130395")
    assert response.status_code == 200
    assert '<p class="em_media">（文章来源：山西晚报）</p>' in response.text
    assert "&lt;p&gt;" not in response.text


def test_rendered_bodies_hold_no_script(get):
    response = get("/finews/articles", _size="max")
    assert response.status_code == 200
    assert "document.write" not in response.text and "onerror" not in response.text
