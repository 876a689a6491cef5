"""The reading site in a real headless browser (Debian's chromium): the home page, a
newspaper page and an article page render, the links between them work, and no script
from an article body runs. Screenshots (phone and desktop widths) are kept under
tests/artifacts/site/ for a person to look at."""

import re
import subprocess
import sys
import urllib.request
from html import unescape
from pathlib import Path

import pytest

from finews_spider.archive import open_read_only
from finews_spider.site import build_site
from tests.conftest import ROOT, crawl, require_tool, wait_until_serving
from tests.test_browser import HOSTILE, dump_dom, free_port

pytestmark = pytest.mark.slow  # every test here starts processes (docs/testing.md)

ARTIFACTS = ROOT / "tests" / "artifacts" / "site"


def screenshot(url: str, path: Path, tmp_path, size: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    result = subprocess.run(
        [
            require_tool("chromium"),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chrome'}",
            f"--window-size={size}",
            f"--screenshot={path}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and path.stat().st_size > 5000, result.stderr[-2000:]


def hrefs(dom: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'<a [^>]*href="([^"]+)"', dom)]


@pytest.fixture
def site(upstream, tmp_path):
    require_tool("chromium")
    code = upstream.feeds["37"]["record"][0]["infoCode"]
    upstream.texts[code] = {"text": HOSTILE}
    data = tmp_path / "data"
    assert crawl("finews", data, upstream).returncode == 0
    out = tmp_path / "site"
    conn = open_read_only(data / "finews.db")
    build_site(conn, out)
    conn.close()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(base, "/site.css", server)
    yield base, code
    server.terminate()
    server.wait(10)


def test_home_newspaper_and_article_pages_in_chromium(site, tmp_path):
    base, hostile_code = site
    home = dump_dom(base + "/index.html", tmp_path)
    assert "最新文章" in home and "共 34 篇" in home
    home_links = hrefs(home)
    # home -> newspapers page -> a newspaper's page
    assert "/newspapers.html" in home_links
    papers = dump_dom(base + "/newspapers.html", tmp_path)
    assert "<dt>山西</dt>" in papers
    assert "/category/shanxiwanbao.html" in hrefs(papers)
    paper = dump_dom(base + "/category/shanxiwanbao.html", tmp_path)
    assert "山西晚报新闻" in paper
    # newspaper page -> the hostile article, whose scripts must not run
    article_link = next(h for h in hrefs(paper) if h.endswith(f"/{hostile_code}.html"))
    assert re.fullmatch(r"/shanxiwanbao/\d{4}/\d{2}/\d{2}/NW\d+\.html", article_link)
    article = dump_dom(base + article_link, tmp_path)
    assert "正文第一段。" in article and "正文第二段。" in article
    assert "PWNED" not in article and "<script>document.body" not in article and "onerror" not in article
    # article -> its newspaper, and its neighbours in the same paper; home links to articles
    article_links = hrefs(article)
    assert "/category/shanxiwanbao.html" in article_links and "/index.html" in article_links
    neighbours = [h for h in article_links if re.fullmatch(r"/shanxiwanbao/.+/NW\d+\.html", h)]
    assert neighbours, article_links
    assert any(re.fullmatch(r"/\w+/\d{4}/\d{2}/\d{2}/NW\d+\.html", h) for h in home_links)
    # every internal link of these pages answers
    for link in {h for h in home_links + hrefs(papers) + hrefs(paper) + article_links if h.startswith("/")}:
        with urllib.request.urlopen(base + link, timeout=5) as response:
            assert response.status == 200, link
    for name, path in [
        ("home", "/index.html"),
        ("newspapers", "/newspapers.html"),
        ("newspaper", "/category/shanxiwanbao.html"),
        ("article-hostile", article_link),
        ("article", neighbours[0]),
    ]:
        screenshot(base + path, ARTIFACTS / f"{name}-phone.png", tmp_path, "412,915")
        screenshot(base + path, ARTIFACTS / f"{name}-desktop.png", tmp_path, "1280,900")
