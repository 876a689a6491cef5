"""The Datasette plugin as an analyst meets it: plain ``datasette serve FILE`` in a
subprocess, the plugin loaded by Datasette itself from the installed package's entry point
(no --plugins-dir, no metadata file), on an archive made by the quick start's replayed
crawl, copied under another file name, next to a database that is not an archive."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from finews_spider.api import DEFAULT_METADATA
from finews_spider.cleaning import html_to_text
from finews_spider.schema import APPLICATION_ID
from tests.conftest import ROOT, rows, wait_until_serving

ARCHIVE_NAME = "my archive"  # a space: Datasette tilde-encodes it in URLs (my~20archive)
DB_URL = "/my~20archive"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_database(src: Path, dest: Path) -> None:
    source, target = sqlite3.connect(src), sqlite3.connect(dest)
    source.backup(target)
    source.close(), target.close()


def add_failed_run(path: Path) -> None:
    """A failed run the day before the replayed one, for the crawl-health charts."""
    conn = sqlite3.connect(path)
    ((started,),) = conn.execute("SELECT min(started_at) FROM crawls")
    day_before = (datetime.fromisoformat(started) - timedelta(days=1)).isoformat()
    conn.execute(
        "INSERT INTO crawls (spider, started_at, finished_at, status, reason, articles_new, articles_changed, "
        "articles_unchanged, articles_skipped, articles_dropped, requests, retries, errors, duration_seconds) "
        "VALUES ('shanxiwanbao', ?, ?, 'failed', 'upstream unreachable', 0, 0, 0, 0, 0, 3, 9, 3, 12.5)",
        (day_before, day_before),
    )
    conn.commit()
    conn.close()


MENTIONED = ("NW202112232223130395", "NW202112200000047514")  # two articles of 山西晚报, two days apart


def add_mentions(path: Path) -> None:
    """The mentions of the real tagged body of issue 12 (tests/fixtures/bodies/mentions-real.html,
    cleaned by the project's rules) given to two articles of the replayed archive, whose
    sample bodies carry no tags."""
    from finews_spider.cleaning.body import clean_body

    real = (ROOT / "tests" / "fixtures" / "bodies" / "mentions-real.html").read_text("utf-8")
    found = clean_body(real, "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW1", "上海证券报").mentions
    conn = sqlite3.connect(path)
    with conn:
        for code in MENTIONED:
            ((published,),) = conn.execute("SELECT published_at FROM articles WHERE info_code=?", (code,))
            conn.executemany(
                "INSERT INTO mentions (info_code, kind, market, code, name, exchange, published_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(code, m.kind, m.market, m.code, m.name, m.exchange, published) for m in found],
            )
    conn.close()


def make_plain_database(path: Path) -> None:
    """Not an archive, though it has a table called articles with a full-text index."""
    db = sqlite_utils.Database(path)
    db["articles"].insert_all(
        [
            {"id": 1, "title": "十四五 规划", "body_text": "plain words"},
            {"id": 2, "title": "乡村振兴", "body_text": "hello world"},
        ],
        pk="id",
    )
    db["articles"].enable_fts(["title", "body_text"])
    db.conn.close()


@pytest.fixture(scope="module")
def server(replayed_archive, tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    copy_database(replayed_archive / "finews.db", folder / f"{ARCHIVE_NAME}.db")
    add_failed_run(folder / f"{ARCHIVE_NAME}.db")
    add_mentions(folder / f"{ARCHIVE_NAME}.db")
    make_plain_database(folder / "plain.db")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            str(folder / f"{ARCHIVE_NAME}.db"),
            str(folder / "plain.db"),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
        ],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(base, "/-/versions.json", proc)
    yield base, folder
    proc.terminate()
    proc.wait(10)


def get(base: str, path: str, **params) -> tuple[int, str]:
    url = base + path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def get_json(base, path, **params):
    status, body = get(base, path, **params)
    assert status == 200, body[:2000]
    return json.loads(body)


def containing(archive: Path, word: str) -> list[str]:
    return sorted(
        r["info_code"]
        for r in rows(archive / "finews.db", "SELECT info_code, title, body_html FROM articles")
        if word in r["title"] or word in html_to_text(r["body_html"]).replace("\n", "")
    )


@pytest.mark.slow
def test_datasette_plugins_lists_it():
    result = subprocess.run([sys.executable, "-m", "datasette", "plugins"], capture_output=True, text=True, timeout=60)
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert {"get_metadata", "prepare_connection", "render_cell"} <= set(plugins["finews-spider"]["hooks"])
    assert "datasette-dashboards" in plugins and "datasette-render-html" in plugins


def test_the_archive_carries_the_marker(replayed_archive):
    conn = sqlite3.connect(replayed_archive / "finews.db")
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()


@pytest.mark.parametrize("word", ["党", "党建", "十四五", "乡村振兴", "高质量发展", "山西全方位推动高质量发展"])
def test_search_box_finds_words_of_every_length_in_a_renamed_archive(server, replayed_archive, word):
    base, _ = server
    want = containing(replayed_archive, word)
    assert want, f"the sample has no article with {word}"
    found = get_json(base, f"{DB_URL}/articles.json", _search=word, _shape="array", _col="info_code", _size="max")
    assert sorted(r["info_code"] for r in found) == want


def test_the_quick_start_words_are_in_the_sample(replayed_archive):
    assert len(containing(replayed_archive, "十四五")) == 13 and len(containing(replayed_archive, "乡村振兴")) == 13


def test_missing_word_finds_nothing(server):
    base, _ = server
    assert get_json(base, f"{DB_URL}/articles.json", _search="量子计算", _shape="array") == []


def test_results_page_lists_title_newspaper_date_and_snippet_newest_first(server):
    base, _ = server
    status, html = get(base, f"{DB_URL}/articles", _search="十四五")
    assert status == 200
    assert "13 rows where search matches" in html and "sorted by doc_id descending" in html
    headings = [h.split('data-column="')[1].split('"')[0] for h in html.split("<th ")[1:] if 'data-column="' in h]
    assert headings == ["info_code", "title", "newspaper", "published_at", "body_html"]
    snippets = html.split('<td class="col-body_html')[1:]
    assert len(snippets) == 13 and all('class="finews-snippet"' in s.split("</td>")[0] for s in snippets)
    assert html.count("<mark>十四五</mark>") >= 13 and "<p>" not in "".join(s.split("</td>")[0] for s in snippets)
    assert html.index('name="_search"') < html.index("<table")
    dates = [d.split(">", 1)[1].split("<", 1)[0] for d in html.split('<td class="col-published_at')[1:]]
    assert len(dates) == 13 and dates == sorted(dates, reverse=True)


def test_columns_chosen_in_the_url_are_kept(server):
    base, _ = server
    status, html = get(base, f"{DB_URL}/articles", _search="十四五", _col="source")
    assert 'data-column="source"' in html and 'data-column="title"' not in html and "<mark>" not in html


@pytest.fixture(scope="module")
def newest_first_server(replayed_archive, tmp_path_factory):
    """Plain Datasette on a copy of the archive, configured (plugins: finews:
    newest_first_above: 3) so that 34 articles exercise the answer a word found in half a
    million articles gets."""
    folder = tmp_path_factory.mktemp("newest-first")
    copy_database(replayed_archive / "finews.db", folder / "archive.db")
    (folder / "metadata.yml").write_text("plugins:\n  finews:\n    newest_first_above: 3\n")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            str(folder / "archive.db"),
            "-m",
            str(folder / "metadata.yml"),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
        ],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(base, "/-/versions.json", proc)
    yield base, folder / "archive.db"
    proc.terminate()
    proc.wait(10)


def newest_first(archive: Path, word: str) -> list[str]:
    wanted = set(containing(archive.parent, word) if archive.name == "finews.db" else [])
    return [
        r["info_code"]
        for r in rows(archive, "SELECT info_code FROM articles ORDER BY doc_id DESC")
        if r["info_code"] in wanted
    ]


def test_a_word_with_many_matches_is_answered_newest_first_from_the_index(newest_first_server, replayed_archive):
    base, _ = newest_first_server
    want = newest_first(replayed_archive / "finews.db", "十四五")
    assert len(want) == 13
    data = get_json(base, "/archive/articles.json", _search="十四五", _size="5", _col="info_code", _shape="objects")
    assert [r["info_code"] for r in data["rows"]] == want[:5]
    assert "ORDER BY rowid DESC LIMIT :finews_window" in data["query"]["sql"]  # reads 1,001 matches at most
    assert data["filtered_table_rows_count"] == 13 and data["facet_results"] == {}  # counted from the index
    assert 'search matches "十四五": 13 articles, newest first' in data["human_description_en"]
    # Page after page (Datasette's _next), every match once, in order.
    seen, url = (
        [],
        f"{base}/archive/articles.json?_search=%E5%8D%81%E5%9B%9B%E4%BA%94&_size=4&_col=info_code&_shape=objects",
    )
    while url:
        with urllib.request.urlopen(url, timeout=30) as response:
            page = json.loads(response.read())
        seen += [r["info_code"] for r in page["rows"]]
        url = page["next_url"]
    assert seen == want
    status, html = get(base, "/archive/articles", _search="十四五")
    assert status == 200 and "13 articles, newest first" in html and html.count("<mark>十四五</mark>") >= 13
    assert 'class="facet-results"' not in html


def test_a_search_with_other_filters_or_few_matches_counts_and_facets_as_usual(newest_first_server, replayed_archive):
    base, _ = newest_first_server
    data = get_json(base, "/archive/articles.json", _search="十四五", slug="shanxiwanbao", _size="0")
    want = [
        c
        for c in newest_first(replayed_archive / "finews.db", "十四五")
        if rows(replayed_archive / "finews.db", "SELECT slug FROM articles WHERE info_code=?", (c,))[0]["slug"]
        == "shanxiwanbao"
    ]
    assert want and data["filtered_table_rows_count"] == len(want) and "newspaper" in data["facet_results"]
    few = get_json(base, "/archive/articles.json", _search="城日报", _size="0")
    assert few["filtered_table_rows_count"] == len(containing(replayed_archive, "城日报")) == 2
    sorted_by_date = get_json(base, "/archive/articles.json", _search="十四五", _sort_desc="published_at", _size="0")
    assert sorted_by_date["filtered_table_rows_count"] == 13


def test_json_keeps_every_column(server):
    base, _ = server
    row = get_json(base, f"{DB_URL}/articles.json", _search="十四五", _shape="array", _size="1")[0]
    assert {"body_html", "share_url", "doc_id", "published_at", "first_seen_at"} <= set(row)
    assert "<mark>" not in row["body_html"] and row["body_html"].startswith("<p>")


def test_facets_and_column_descriptions(server):
    base, _ = server
    data = get_json(base, f"{DB_URL}/articles.json", _size="0")
    facets = data["facet_results"]
    assert {"newspaper", "published_date", "source"} <= set(facets)
    assert not data.get("suggested_facets")  # too slow on a large archive (see the plugin)
    counts = {r["value"]: r["count"] for r in facets["newspaper"]["results"]}
    assert counts["山西晚报"] == 7 and sum(counts.values()) == 34
    status, html = get(base, f"{DB_URL}/articles")
    assert "Publication time, Beijing time" in html and 'class="column-descriptions"' in html


def test_article_page_renders_the_body(server):
    base, _ = server
    status, html = get(base, f"{DB_URL}/articles/NW202112232223130395")
    assert status == 200
    assert '<p class="em_media">（文章来源：山西晚报）</p>' in html and "&lt;p&gt;" not in html


def test_canned_search_query_with_snippets(server, replayed_archive):
    base, _ = server
    found = get_json(base, f"{DB_URL}/search.json", q="乡村振兴", _shape="array")
    assert sorted(r["info_code"] for r in found) == containing(replayed_archive, "乡村振兴")
    assert all("<mark>乡村振兴</mark>" in r["snippet"] for r in found)
    assert [r["published_at"] for r in found] == sorted((r["published_at"] for r in found), reverse=True)
    status, html = get(base, f"{DB_URL}/search", q="乡村振兴")
    assert status == 200 and "<mark>乡村振兴</mark>" in html and "&lt;mark&gt;" not in html


def test_other_canned_queries(server):
    base, _ = server
    latest = get_json(base, f"{DB_URL}/latest_by_newspaper.json", slug="shanxiwanbao", _shape="array")
    assert len(latest) == 7 and latest[0]["published_at"] >= latest[-1]["published_at"]
    assert sum(r["articles"] for r in get_json(base, f"{DB_URL}/daily_counts.json", _shape="array")) == 34
    assert get_json(base, f"{DB_URL}/changed_since.json", since="2000-01-01", _shape="array") == []


def test_a_snippet_column_from_other_sql_is_escaped(server):
    base, _ = server
    status, html = get(base, DB_URL, sql="select '<b>x</b><mark>y</mark>' as snippet")
    assert "&lt;b&gt;x" in html and "<b>x</b>" not in html


def test_sql_functions(server):
    base, _ = server
    data = get_json(
        base, f"{DB_URL}.json", sql="select count(*) from articles_fts where articles_fts match finews_match('十四五')"
    )
    assert data["rows"] == [[13]]
    data = get_json(
        base,
        f"{DB_URL}.json",
        sql="select finews_match('十四五') as q, finews_snippet('开局之年十四五规划', '十四五') as s",
    )
    assert data["rows"] == [['"十四 四五"', "开局之年<mark>十四五</mark>规划"]]


# -- one search syntax: the search box, the canned query and SQL agree with the shell ----------

SYNTAX = [
    "十四五 OR 国寿",
    '"高质量 发展"',
    "国寿 -十四五",
    "国寿 NOT 十四五",
    "(十四五 OR 乡村振兴) 党建",
    "党建 -(十四五 OR 乡村振兴)",
]


@pytest.mark.parametrize("words", SYNTAX)
def test_search_box_canned_query_sql_and_shell_find_the_same(server, replayed_archive, words):
    from tests.conftest import scrapy

    base, _ = server
    box = get_json(base, f"{DB_URL}/articles.json", _search=words, _shape="array", _col="info_code", _size="max")
    canned = get_json(base, f"{DB_URL}/search.json", q=words, _shape="array")
    sql = get_json(
        base,
        f"{DB_URL}.json",
        sql="select info_code from articles where doc_id in "
        "(select rowid from articles_fts where articles_fts match finews_match(:q))",
        q=words,
        _shape="array",
    )
    shell = scrapy("search", words, "--limit", "0", "--json", data_dir=replayed_archive, timeout=60)
    assert shell.returncode == 0, shell.stderr
    found = {r["info_code"] for r in json.loads(shell.stdout)}
    assert found and {r["info_code"] for r in box} == {r["info_code"] for r in canned} == found
    assert {r["info_code"] for r in sql} == found


def test_or_and_phrase_in_the_search_box(server, replayed_archive):
    """Issue #22: '"高质量 发展"' and 十四五 OR 国寿 found nothing."""
    base, _ = server
    found = get_json(base, f"{DB_URL}/articles.json", _search='"高质量 发展"', _shape="array", _size="max")
    assert sorted(r["info_code"] for r in found) == containing(replayed_archive, "高质量发展")
    found = get_json(base, f"{DB_URL}/articles.json", _search="十四五 OR 国寿", _shape="array", _size="max")
    want = set(containing(replayed_archive, "十四五")) | set(containing(replayed_archive, "国寿"))
    assert {r["info_code"] for r in found} == want
    status, html = get(base, f"{DB_URL}/articles", _search="十四五 OR 乡村振兴")
    assert "<mark>十四五</mark>" in html and "<mark>乡村振兴</mark>" in html


def test_excluded_words_are_not_marked(server, replayed_archive):
    base, _ = server
    found = get_json(base, f"{DB_URL}/search.json", q="国寿 OR (党建 -十四五)", _shape="array")
    with_both = set(containing(replayed_archive, "党建")) & set(containing(replayed_archive, "十四五"))
    assert len(found) == 34 and with_both
    for row in found:
        assert "<mark>十四五</mark>" not in row["snippet"]
        if row["info_code"] in with_both:
            assert "<mark>党建</mark>" not in row["snippet"]  # its part of the query does not hold here
    status, html = get(base, f"{DB_URL}/articles", _search="国寿 -十四五")
    assert "<mark>国寿</mark>" in html and "<mark>十四五</mark>" not in html


def test_a_search_outside_the_syntax_says_so(server):
    from finews_spider.search import SUPPORTED

    base, _ = server
    status, html = get(base, f"{DB_URL}/articles", _search="NEAR(十四五 国寿)")
    assert status == 200
    message = html.split('<p class="message-error">')[1].split("</p>")[0]
    assert message == f"Search not understood: NEAR is not supported; {SUPPORTED}".replace('"', "&#34;")
    assert "0 rows where search" in html and 'value="NEAR(十四五 国寿)"' in html  # the box keeps the words
    status, body = get(base, f"{DB_URL}/articles.json", _search="十四五 OR")
    assert status == 400 and json.loads(body)["error"] == f"_search: OR needs a term on either side; {SUPPORTED}"
    # The canned query and SQL: SQLite's own error, naming finews_match() and the syntax.
    status, html = get(base, f"{DB_URL}/search", q="title:十四五")
    message = html.split('<p class="message-error">')[1].split("</p>")[0]
    assert message == (
        f"no such column: finews_match(): column filters (title:十四五) are not supported; {SUPPORTED}"
    ).replace('"', "&#34;")
    words = "-十四五"
    status, body = get(
        base,
        f"{DB_URL}.json",
        sql="select count(*) from articles_fts where articles_fts match finews_match(:q)",
        q=words,
    )
    problem = "nothing to find: -word and NOT word only leave out, so add a word that must occur"
    assert status == 400 and json.loads(body)["error"] == f"no such column: finews_match(): {problem}; {SUPPORTED}"
    # finews_match() alone gives the expression that fails so, the message in it.
    data = get_json(base, f"{DB_URL}.json", sql="select finews_match(:q) as q", q=words, _shape="array")
    assert data == [{"q": '"' + f"finews_match(): {problem}; {SUPPORTED}".replace('"', '""') + '" : x'}]


def test_other_databases_are_left_alone(server):
    base, _ = server
    # Datasette's own search: the whole run of characters is one token in a plain FTS table.
    found = get_json(base, "/plain/articles.json", _search="十四五", _shape="array")
    assert [r["id"] for r in found] == [1]
    status, body = get(base, "/plain.json", sql="select finews_match('x')")
    assert "no such function: finews_match" in body
    data = get_json(base, "/plain/articles.json")
    assert data["facet_results"] == {} and data["human_description_en"] == ""
    status, html = get(base, "/plain/articles")
    assert 'data-column="id"' in html and 'data-column="body_text"' in html and "<mark>" not in html
    assert "finews-columns" not in html and "My archive" not in html


def test_dashboard_charts_run(server):
    base, _ = server
    status, html = get(base, "/-/dashboards/my-archive")
    assert status == 200 and "Articles per day per newspaper" in html
    import yaml
    from datasette_dashboards import replace_opts_in_query

    charts = yaml.safe_load((ROOT / "finews_spider" / "datasette_plugin" / "metadata.yml").read_text("utf-8"))[
        "dashboard"
    ]["charts"]
    for name, chart in charts.items():
        for options in ({}, {"code": "600160"}):  # the dashboard's filter, empty and filled
            sql = replace_opts_in_query(chart["query"], options)
            data = get_json(base, f"{DB_URL}.json", sql=sql, _shape="array", **options)
            assert data, f"chart {name} has no data ({options})"


def test_mentions_faceted_by_code_and_name(server):
    base, _ = server
    data = get_json(base, f"{DB_URL}/mentions.json", _size="0")
    facets = data["facet_results"]
    codes = {r["value"]: r["count"] for r in facets["code"]["results"]}
    names = {r["value"]: r["count"] for r in facets["name"]["results"]}
    assert codes["600160"] == 2 and codes["BK0493"] == 2 and names["巨化股份"] == 2
    assert "BK0473" not in codes  # the 证券 of 上海证券报 in the attribution is no mention
    filtered = get_json(base, f"{DB_URL}/mentions.json", code="NIO", _shape="array")
    assert {r["info_code"] for r in filtered} == set(MENTIONED) and {r["exchange"] for r in filtered} == {"NYSE"}
    status, html = get(base, f"{DB_URL}/mentions")
    assert status == 200 and "The service&#39;s market number" in html


@pytest.mark.parametrize("asked", ["600160", "bk0493", " 巨化股份 "])
def test_canned_query_articles_mentioning_a_code_or_name(server, replayed_archive, asked):
    base, _ = server
    found = get_json(base, f"{DB_URL}/articles_mentioning.json", code=asked, _shape="array")
    assert [r["info_code"] for r in found] == sorted(MENTIONED, reverse=True)  # newest first
    assert set(found[0]) == {"published_at", "newspaper", "title", "share_url", "info_code"}
    [want] = rows(replayed_archive / "finews.db", "SELECT * FROM articles WHERE info_code=?", (MENTIONED[0],))
    assert found[0]["title"] == want["title"] and found[0]["share_url"] == want["share_url"]
    assert get_json(base, f"{DB_URL}/articles_mentioning.json", code="999999", _shape="array") == []


def test_mentions_per_day_chart_for_a_code(server, replayed_archive):
    base, _ = server
    status, html = get(base, "/-/dashboards/my-archive", code="600160")
    assert status == 200 and "Mentions per day" in html
    import yaml
    from datasette_dashboards import replace_opts_in_query

    chart = yaml.safe_load((ROOT / "finews_spider" / "datasette_plugin" / "metadata.yml").read_text("utf-8"))[
        "dashboard"
    ]["charts"]["mentions-per-day"]
    days = sorted(
        r["published_at"][:10]
        for r in rows(
            replayed_archive / "finews.db", f"SELECT published_at FROM articles WHERE info_code IN {MENTIONED}"
        )
    )
    got = get_json(
        base, f"{DB_URL}.json", sql=replace_opts_in_query(chart["query"], {"code": "x"}), code="600160", _shape="array"
    )
    assert got == [{"day": d, "mentions": 1} for d in days]
    got = get_json(
        base, f"{DB_URL}.json", sql=replace_opts_in_query(chart["query"], {"code": "x"}), code="nothing", _shape="array"
    )
    assert got == []


def test_plain_datasette_get_with_the_repository_metadata(replayed_archive):
    """``datasette FILE -m serve_metadata.yml --get``: the metadata file only adds to the plugin."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "datasette",
            str(replayed_archive / "finews.db"),
            "-m",
            str(DEFAULT_METADATA),
            "--get",
            "/finews/articles.json?_search=%E5%8D%81%E5%9B%9B%E4%BA%94&_shape=array&_col=info_code&_size=max",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(json.loads(result.stdout)) == 13


def test_scrapy_serve_with_another_database_name(replayed_archive, tmp_path):
    """``FINEWS_DB_NAME=archive.db`` through ``scrapy serve`` (which becomes ``datasette serve``)."""
    copy_database(replayed_archive / "finews.db", tmp_path / "archive.db")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scrapy",
            "serve",
            "--port",
            str(port),
            "-s",
            f"FINEWS_DATA_DIR={tmp_path}",
            "-s",
            "FINEWS_DB_NAME=archive.db",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, "/-/versions.json", proc)
        found = get_json(base, "/archive/articles.json", _search="乡村振兴", _shape="array", _size="max")
        assert len(found) == 13
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_built_wheel_serves_the_plugins_static_files(replayed_archive, tmp_path):
    """The package as a wheel (``pip wheel . --no-deps``, built from a copy of the source),
    installed without ``-e`` in a fresh virtual environment (the dependencies reached
    through a .pth file, the package itself only from the wheel): plain ``datasette``
    links and serves the plugin's CSS and JavaScript, and reads its metadata.yml."""
    import shutil
    import sysconfig

    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "finews_spider", source / "finews_spider", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "wheel"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (tmp_path / "wheel").glob("finews_spider-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = subprocess.run(
        [python, "-c", "import finews_spider.datasette_plugin as p; print(p.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert where.stdout.startswith(site), where.stdout + where.stderr  # the wheel's copy, not this source tree
    copy = tmp_path / "news.db"
    copy_database(replayed_archive / "finews.db", copy)
    port = free_port()
    proc = subprocess.Popen(
        [python, "-m", "datasette", "serve", str(copy), "-p", str(port), "-h", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, "/-/versions.json", proc)
        status, html = get(base, "/news/articles")
        assert status == 200 and "Column descriptions" not in html  # (folded by the script, in a browser)
        assert "Publication time, Beijing time" in html  # metadata.yml, from the wheel
        static = ROOT / "finews_spider" / "datasette_plugin" / "static"
        for name in ("finews.css", "finews.js"):
            [url] = [u for u in html.split('"') if u.startswith(f"/-/static-plugins/finews-spider/{name}?")]
            with urllib.request.urlopen(base + url, timeout=30) as response:
                assert response.status == 200 and response.read() == (static / name).read_bytes()
    finally:
        proc.terminate()
        proc.wait(10)
