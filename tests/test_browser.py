"""The Datasette pages in a real headless browser (Debian's chromium): the search page
and an article page render, and no script from an article body runs."""

import os
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from finews_spider.commands.serve import datasette_args
from tests.conftest import ROOT, crawl

REQUIRED = os.environ.get("FINEWS_REQUIRE_BROWSER") == "1"  # .ci/run installs chromium and sets this
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
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
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chrome'}", "--virtual-time-budget=3000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def served(upstream, tmp_path):
    if CHROMIUM is None:
        if REQUIRED:
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    code = upstream.feeds["37"]["record"][0]["infoCode"]
    upstream.texts[code] = {"text": HOSTILE}
    data = tmp_path / "data"
    assert crawl("shanxiwanbao", data, upstream).returncode == 0
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen(datasette_args(data / "finews.db", ROOT / "data" / "metadata.yml", port=port),
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
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
