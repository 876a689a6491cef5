"""The Datasette pages in a real headless browser (Debian's chromium): the search page
and an article page render, and no script from an article body runs."""

import os
import socket
import subprocess
import sys

import pytest

from finews_spider.api import DEFAULT_METADATA, datasette_args
from tests.conftest import ROOT, crawl, require_tool, wait_until_serving
from tests.test_datasette_plugin import newest_first_server  # noqa: F401  (a fixture)

pytestmark = pytest.mark.slow  # every test here starts processes (docs/testing.md)

# Written by the hostile scripts if they ran; never present as text in the page source.
HOSTILE = (
    "<p>　　正文第一段。</p>"
    "<script>document.body.setAttribute('data-x', 'PW' + 'NED')</script>"
    "<p><img src=\"/none.png\" onerror=\"document.body.setAttribute('data-y', 'PW' + 'NED')\">正文第二段。</p>"
    "<p><a href=\"javascript:document.title='PW'+'NED'\">链接</a></p>"
    "<iframe srcdoc=\"<script>parent.document.title='PW'+'NED'</script>\"></iframe>"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dump_dom(url: str, tmp_path) -> str:
    result = subprocess.run(
        [
            require_tool("chromium"),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chrome'}",
            "--virtual-time-budget=3000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def served(upstream, tmp_path):
    require_tool("chromium")
    code = upstream.feeds["37"]["record"][0]["infoCode"]
    upstream.texts[code] = {"text": HOSTILE}
    data = tmp_path / "data"
    assert crawl("shanxiwanbao", data, upstream).returncode == 0
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen(
        datasette_args(data / "finews.db", DEFAULT_METADATA, port=port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(base, "/-/versions.json", server)
    yield base, code
    server.terminate()
    server.wait(10)


def test_search_and_article_pages_render_and_run_no_article_script(served, tmp_path):
    base, code = served
    search = dump_dom(f"{base}/finews/articles?_search=%E5%9C%B0%E9%93%81", tmp_path)  # 地铁
    assert "<table" in search and "rows where search matches" in search
    article = dump_dom(f"{base}/finews/articles/{code}", tmp_path)
    assert "正文第一段。" in article and "正文第二段。" in article
    assert '<p class="em_media">（文章来源：山西晚报）</p>' in article  # rendered, not escaped
    assert "PWNED" not in article and "PWNED" not in search
    assert "<script>document.body" not in article and "onerror" not in article


# -- the pages an analyst looks at, through plain `datasette serve` of a renamed archive ----

ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots of the last run (not committed)


@pytest.fixture(scope="module")
def plain_datasette(replayed_archive, tmp_path_factory):
    require_tool("chromium")
    from tests.test_datasette_plugin import add_failed_run, add_mentions, copy_database, make_plain_database

    folder = tmp_path_factory.mktemp("browsed")
    copy_database(replayed_archive / "finews.db", folder / "news.db")
    add_failed_run(folder / "news.db")
    add_mentions(folder / "news.db")
    make_plain_database(folder / "plain.db")
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            str(folder / "news.db"),
            str(folder / "plain.db"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(base, "/-/versions.json", server)
    yield base
    server.terminate()
    server.wait(10)


def inspect(url, tmp_path, name, **kw):
    from tests.cdp import inspect_page

    profile = tmp_path / f"chrome-{name}"
    profile.mkdir()
    report = inspect_page(require_tool("chromium"), url, profile, **kw)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.png").write_bytes(report.screenshot)
    return report


def test_a_search_answered_newest_first_in_the_browser(newest_first_server, tmp_path):  # noqa: F811 (the fixture)
    """The page a word found in very many articles gets (the threshold lowered to 3):
    the newest matches with snippets, the count from the index in the heading, no errors."""
    require_tool("chromium")
    base, _ = newest_first_server
    heading = 'document.querySelector("h3").textContent.replace(/\\s+/g, " ")'
    marks = 'document.querySelectorAll("td.col-body_html mark").length'
    rows_shown = 'document.querySelectorAll("table.rows-and-columns tbody tr").length'
    report = inspect(
        f"{base}/archive/articles?_search=%E5%8D%81%E5%9B%9B%E4%BA%94",
        tmp_path,
        "search-newest-first",
        expressions=[heading, marks, rows_shown],
        size=(1280, 900),
    )
    assert report.problems() == []
    assert report.values[rows_shown] == 13 and report.values[marks] >= 13
    assert "13 articles, newest first" in report.values[heading]


def test_search_results_page_in_the_browser(plain_datasette, tmp_path):
    search_box = 'document.querySelector("#_search").getBoundingClientRect().bottom'
    marks = 'document.querySelectorAll("td.col-body_html mark").length'
    folded = '!!document.querySelector("details.finews-columns:not([open]) dl.column-descriptions")'
    rows_shown = 'document.querySelectorAll("table.rows-and-columns tbody tr").length'
    report = inspect(
        f"{plain_datasette}/news/articles?_search=%E5%8D%81%E5%9B%9B%E4%BA%94",
        tmp_path,
        "search-results",
        expressions=[search_box, marks, folded, rows_shown],
        size=(1280, 900),
    )
    assert report.problems() == []
    assert report.values[rows_shown] == 13 and report.values[marks] >= 13
    assert report.values[folded] is True
    assert 0 < report.values[search_box] < 900  # on the first screen


def test_dashboard_charts_render_without_console_errors(plain_datasette, tmp_path):
    charts = 'document.querySelectorAll("canvas.marks, svg.marks").length'
    tables = '[...document.querySelectorAll("[id^=chart-] table")].map(t => t.querySelectorAll("tbody tr").length)'
    report = inspect(
        f"{plain_datasette}/-/dashboards/news",
        tmp_path,
        "dashboard",
        wait_for=f"{charts} >= 5",
        expressions=[charts, tables],
        size=(1280, 1800),
    )
    assert report.ready, report.console
    assert report.problems() == []
    assert report.values[charts] == 5
    assert report.values[tables] == [2, 1]  # last run of each spider (finews, shanxiwanbao); the failed run


def test_mentions_per_day_chart_for_a_code(plain_datasette, tmp_path):
    """The mentions chart for 600160 (two articles, two days) is drawn, with no console error
    (its data are checked through Datasette in test_datasette_plugin)."""
    chart = (
        'document.querySelector("[id^=chart-mentions-per-day] svg.marks, [id^=chart-mentions-per-day] canvas.marks")'
    )
    title = 'document.body.innerText.includes("Mentions per day")'
    report = inspect(
        f"{plain_datasette}/-/dashboards/news?code=600160",
        tmp_path,
        "dashboard-mentions",
        wait_for=f"{chart} !== null",
        expressions=[f"{chart} !== null", title],
        size=(1280, 1800),
    )
    assert report.ready, report.console
    assert report.problems() == []
    assert report.values[f"{chart} !== null"] is True and report.values[title] is True


def test_article_page_in_the_browser(plain_datasette, tmp_path):
    report = inspect(
        f"{plain_datasette}/news/articles/NW202112232223130395",
        tmp_path,
        "article",
        expressions=['document.querySelector("td.col-body_html p.em_media") !== null'],
    )
    assert report.problems() == []
    assert report.values['document.querySelector("td.col-body_html p.em_media") !== null'] is True
