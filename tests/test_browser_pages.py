"""Datasette's pages of an archive read like the site, at a phone's width (390 px) and a
desktop's (1280 px), in headless Chromium (tests/cdp.py): the article page, search
results, the canned queries and the mention lists, through plain ``datasette serve``.

Each page is checked for layout (no horizontal overflow of the page or of a table, labels
inside the window, the snippet given room) and for console errors, and a screenshot of
each, at each width, is left in tests/artifacts/ (NAME-390.png, NAME-1280.png; the article
page also whole, article-full-*.png)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest

from finews_spider.search import document_tokens
from tests.conftest import require_tool, wait_until_serving
from tests.test_browser import ARTIFACTS, free_port

WIDTHS = [390, 1280]
COPIES = 16  # 34 articles × 17: 国寿 (in every one) passes the canned search's 200 rows
CODE = "NW202112232223130395"


def add_copies(path, copies: int) -> None:
    """``copies`` more of every article (a day apart each time, new infoCodes and doc_ids,
    indexed as the archive indexes), each mentioning 600160 (巨化股份)."""
    conn = sqlite3.connect(path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(articles)")]
    originals = [dict(zip(columns, r)) for r in conn.execute("SELECT * FROM articles")]
    with conn:
        for k in range(1, copies + 1):
            for a in originals:
                copy = dict(a, info_code=f"{a['info_code'][:-3]}{k:03d}", doc_id=a["doc_id"] - k * 86_400_000)
                conn.execute(
                    f"INSERT INTO articles ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                    [copy[c] for c in columns],
                )
                conn.execute(
                    "INSERT INTO articles_fts (rowid, title, body_text) VALUES (?, ?, ?)",
                    (copy["doc_id"], *document_tokens(copy["title"], copy["body_html"])),
                )
                conn.execute(
                    "INSERT INTO mentions (info_code, kind, market, code, name, exchange, published_at) "
                    "VALUES (?, 'stock', '1', '600160', '巨化股份', 'SSE', ?)",
                    (copy["info_code"], copy["published_at"]),
                )
    conn.close()


@pytest.fixture(scope="module")
def pages(replayed_archive, tmp_path_factory):
    """Plain ``datasette serve`` of two archives: news.db (the quick start's, with the
    mentions of tests/test_datasette_plugin.py) and many.db (the same, COPIES times more)."""
    require_tool("chromium")
    from tests.test_datasette_plugin import add_failed_run, add_mentions, copy_database

    folder = tmp_path_factory.mktemp("pages")
    for name in ("news", "many"):
        copy_database(replayed_archive / "finews.db", folder / f"{name}.db")
        add_failed_run(folder / f"{name}.db")
        add_mentions(folder / f"{name}.db")
    add_copies(folder / "many.db", COPIES)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", str(folder / "news.db"), str(folder / "many.db")]
        + ["-h", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(base, "/-/versions.json", server)
    yield base
    server.terminate()
    server.wait(10)


# Layout, measured in the page: the document and every table no wider than the window.
OVERFLOW = """(() => {
  const width = document.documentElement.clientWidth;
  const wide = [document.documentElement.scrollWidth > width ? "document " + document.documentElement.scrollWidth : null];
  document.querySelectorAll(".table-wrapper, pre, form").forEach((e) => {
    if (e.scrollWidth > e.clientWidth + 1) wide.push(e.className || e.tagName + " " + e.scrollWidth + ">" + e.clientWidth);
    const box = e.getBoundingClientRect();
    if (box.right > width + 1) wide.push((e.className || e.tagName) + " right " + box.right);
  });
  return wide.filter(Boolean);
})()"""


def inspect(url, tmp_path, name, width, **kw):
    from tests.cdp import inspect_page

    profile = tmp_path / f"chrome-{name}-{width}"
    profile.mkdir()
    kw.setdefault("wait_for", 'document.documentElement.dataset.finews === "ready"')  # static/finews.js ran
    report = inspect_page(require_tool("chromium"), url, profile, size=(width, 900), **kw)
    assert report.ready, report.console
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}-{width}.png").write_bytes(report.screenshot)
    return report


def fetch_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def q(text: str) -> str:
    return urllib.parse.quote(text)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_article_page_reads_like_the_site(pages, tmp_path, width):
    fields = """(() => {
      const width = document.documentElement.clientWidth;
      return [...document.querySelectorAll("table.rows-and-columns td")].map((td) => {
        const label = td.querySelector(".finews-label");
        const box = label ? label.getBoundingClientRect() : null;
        return {
          column: td.className.split(" ")[0].replace("col-", ""),
          label: label ? label.textContent : null,
          visible: !!box && box.width > 0 && box.height > 0 && box.left >= 0 && box.right <= width
            && getComputedStyle(label).visibility === "visible" && getComputedStyle(label).display !== "none",
          top: td.getBoundingClientRect().top,
        };
      });
    })()"""
    paragraphs = """(() => {
      const td = document.querySelector("td.col-body_html");
      const ps = [...td.querySelectorAll("p")].map((p) => p.getBoundingClientRect());
      const gaps = ps.slice(1).map((b, i) => b.top - ps[i].bottom);
      return {count: ps.length, widest_gap: Math.max(...gaps), whitespace: getComputedStyle(td).whiteSpace,
              line: parseFloat(getComputedStyle(td.querySelector("p")).lineHeight),
              indent: getComputedStyle(td.querySelector("p")).textIndent};
    })()"""
    report = inspect(
        f"{pages}/news/articles/{CODE}", tmp_path, "article", width, expressions=[OVERFLOW, fields, paragraphs]
    )
    assert report.problems() == []
    assert report.values[OVERFLOW] == []
    shown = report.values[fields]
    assert len(shown) == 15 and all(f["label"] == f["column"] and f["visible"] for f in shown), shown
    top = {f["column"]: f["top"] for f in shown}
    # headline, paper, date, body, then the rest
    assert top["title"] < top["newspaper"] < top["published_at"] < top["body_html"] < top["info_code"]
    body = report.values[paragraphs]
    assert body["count"] >= 5 and body["whitespace"] == "normal" and body["indent"] != "0px"
    # Paragraphs one blank line (1em) apart, not the several lines of Datasette's pre-wrap.
    assert 0 <= body["widest_gap"] <= body["line"], body
    whole = inspect(f"{pages}/news/articles/{CODE}", tmp_path, "article-full", width, full_page=True)
    assert whole.problems() == []


@pytest.mark.parametrize("width", WIDTHS)
def test_search_results_page(pages, tmp_path, width):
    snippets = """[...document.querySelectorAll("td.col-body_html")].map((td) => [
      td.getBoundingClientRect().width, td.querySelectorAll("mark").length])"""
    report = inspect(
        f"{pages}/news/articles?_search={q('十四五 OR 乡村振兴')}",
        tmp_path,
        "search-results",
        width,
        expressions=[OVERFLOW, snippets],
    )
    assert report.problems() == [] and report.values[OVERFLOW] == []
    cells = report.values[snippets]
    # (one of the 21 has 十四五 in its title only: its snippet is the start of its body)
    assert len(cells) == 21 and sum(1 for _, marks in cells if marks) == 20
    assert min(w for w, _ in cells) >= (350 if width == 1280 else 300)


@pytest.mark.parametrize("width", WIDTHS)
def test_search_not_understood_says_so(pages, tmp_path, width):
    message = """(() => { const p = document.querySelector("p.message-error"); const b = p.getBoundingClientRect();
      return [p.textContent, b.left >= 0 && b.right <= document.documentElement.clientWidth && b.height > 0]; })()"""
    report = inspect(
        f"{pages}/news/articles?_search={q('NEAR(十四五 国寿)')}",
        tmp_path,
        "search-not-understood",
        width,
        expressions=[OVERFLOW, message],
    )
    assert report.problems() == [] and report.values[OVERFLOW] == []
    text, visible = report.values[message]
    assert text.startswith("Search not understood: NEAR is not supported; searches understand words") and visible


@pytest.mark.parametrize("width", WIDTHS)
def test_canned_search_query_gives_the_snippet_room(pages, tmp_path, width):
    cells = """(() => {
      const rows = [...document.querySelectorAll("table.rows-and-columns tbody tr")];
      return rows.map((tr) => {
        const snippet = tr.querySelector("td.col-snippet");
        const range = document.createRange();
        range.selectNodeContents(snippet);  // (its text's line boxes, not the card's label)
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.bottom))).size;
        return {width: snippet.getBoundingClientRect().width, chars_per_line: snippet.textContent.trim().length / lines,
                article: tr.querySelector("td.col-info_code a") && tr.querySelector("td.col-info_code a").getAttribute("href"),
                title: tr.querySelector("td.col-title a") && tr.querySelector("td.col-title a").getAttribute("href")};
      });
    })()"""
    capped = '!!document.querySelector("p.finews-capped")'
    report = inspect(
        f"{pages}/news/search?q={q('十四五')}", tmp_path, "canned-search", width, expressions=[OVERFLOW, cells, capped]
    )
    assert report.problems() == [] and report.values[OVERFLOW] == []
    rows = report.values[cells]
    assert len(rows) == 13 and report.values[capped] is False  # 13 of at most 200: nothing cut
    for row in rows:
        assert row["width"] >= (380 if width == 1280 else 300), row
        assert row["chars_per_line"] >= 15, row  # (was 5 at 1280 px: the snippet squeezed by the link)
        assert row["article"] == row["title"] and row["article"].startswith("/news/articles/NW")
    status = urllib.request.urlopen(pages + rows[0]["article"], timeout=30).status
    assert status == 200


@pytest.mark.parametrize("width", WIDTHS)
def test_mention_lists_link_to_their_articles(pages, tmp_path, width):
    links = '[...document.querySelectorAll("td.col-info_code a")].map((a) => a.getAttribute("href"))'
    report = inspect(f"{pages}/news/mentions", tmp_path, "mentions", width, expressions=[OVERFLOW, links])
    assert report.problems() == [] and report.values[OVERFLOW] == []
    hrefs = report.values[links]
    assert len(hrefs) == 8 and set(hrefs) == {
        "/news/articles/NW202112232223130395",
        "/news/articles/NW202112200000047514",
    }
    article = fetch_json(pages + hrefs[0] + ".json")
    assert article["rows"][0][0] == hrefs[0].rsplit("/", 1)[1]
    report = inspect(
        f"{pages}/news/articles_mentioning?code=600160",
        tmp_path,
        "articles-mentioning",
        width,
        expressions=[OVERFLOW, links],
    )
    assert report.problems() == [] and report.values[OVERFLOW] == []
    assert report.values[links] == ["/news/articles/NW202112232223130395", "/news/articles/NW202112200000047514"]


@pytest.mark.parametrize(
    "width, query, limit, table_filter",
    [
        (width, query, limit, table_filter)
        for width in WIDTHS
        for query, limit, table_filter in [
            (f"search?q={q('国寿')}", 200, f"_search={q('国寿')}"),
            (
                "articles_mentioning?code=600160",
                500,
                "_where="
                + q(
                    "info_code in (select info_code from mentions where code = upper(trim('600160')) or name = trim('600160'))"
                ),
            ),
        ]
    ],
)
def test_capped_queries_say_so_and_page_on(pages, tmp_path, width, query, limit, table_filter):
    note = """(() => { const p = document.querySelector("p.finews-capped"); if (!p) return null;
      const b = p.getBoundingClientRect(); const a = p.querySelector("a");
      return [p.textContent, a && a.getAttribute("href"), b.left >= 0 && b.right <= document.documentElement.clientWidth]; })()"""
    shown = 'document.querySelectorAll("table.rows-and-columns tbody tr").length'
    name = "capped-" + query.split("?")[0].replace("_", "-")
    report = inspect(f"{pages}/many/{query}", tmp_path, name, width, expressions=[OVERFLOW, note, shown])
    assert report.problems() == [] and report.values[OVERFLOW] == []
    assert report.values[shown] == limit
    text, href, visible = report.values[note]
    assert text.startswith(f"The query stops at {limit} rows") and visible
    assert urllib.parse.unquote(href) == urllib.parse.unquote(f"/many/articles?{table_filter}")
    # The articles table has them all, and pages on.
    everything = fetch_json(pages + href.replace("/many/articles?", "/many/articles.json?") + "&_size=100")
    total = {"search": 34 * (COPIES + 1), "articles_mentioning": 2 + 34 * COPIES}[query.split("?")[0]]
    assert everything["filtered_table_rows_count"] == total > limit and everything["next_url"]
