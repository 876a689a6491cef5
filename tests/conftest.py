"""Shared fixtures: a loopback upstream serving the bundled sample, and ``crawl()``,
which runs the real ``scrapy crawl`` command (real engine, real HTTP) in a subprocess;
the ``slow`` marker (tests that start processes), and the policy for a missing outside
program (:func:`require_tool`)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from finews_spider.api import DEFAULT_METADATA
from tests.redis_server import redis_server
from tests.upstream_server import Upstream

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_UPSTREAM = ROOT / "data" / "sample" / "upstream"
SAMPLE_WARC = ROOT / "data" / "sample" / "upstream.warc.gz"
REFERENCE = ROOT / "tests" / "fixtures" / "reference"
REFERENCE_POST = REFERENCE / "2021-12-23-NW202112232223130395.md"

# Fast, deterministic crawls for tests: no politeness delays, short timeouts and backoff.
TEST_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "0",
    "DOWNLOAD_TIMEOUT": "2",
    "RETRY_TIMES": "2",
    "FINEWS_RETRY_BACKOFF_BASE": "0.1",
    "LOG_LEVEL": "INFO",
    # Tests change the upstream between runs on one data folder: no feed reuse unless a test asks.
    "FINEWS_FEED_TTL": "0",
}


# -- fast and slow tests ------------------------------------------------------------------------
#: Fixtures that start processes or stand for a crawl's archive: a test using one (directly or
#: through another fixture) is marked ``slow``. Other slow tests are marked in their module
#: (``pytestmark``) or one by one; ``-m "not slow"`` runs the rest in under a minute.
SLOW_FIXTURES = frozenset({"upstream", "sample_archive", "replayed_archive", "redis_url"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


class _NoProcess:
    """``subprocess.Popen`` while a test that is not marked slow runs."""

    def __init__(self, args, *rest, **kwargs):
        pytest.fail(f"this test starts a process ({args!r}): mark it slow (docs/testing.md)")


@pytest.fixture(autouse=True)
def _fast_tests_start_no_process(request, monkeypatch):
    """A test not marked slow may not start a process (``subprocess`` and what uses it), so
    the fast subset stays fast: such a test fails, saying to mark it."""
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setattr(subprocess, "Popen", _NoProcess)


def scrapy(
    *args: str, data_dir: Path, settings: dict | None = None, timeout: float = 120, **popen
) -> subprocess.CompletedProcess:
    """Run ``python -m scrapy ARGS`` in the project with ``FINEWS_DATA_DIR=data_dir``."""
    cmd = [sys.executable, "-m", "scrapy", *args, "-s", f"FINEWS_DATA_DIR={data_dir}"]
    for key, value in {**TEST_SETTINGS, **(settings or {})}.items():
        cmd += ["-s", f"{key}={value}"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, **popen)


def crawl(
    spider: str, data_dir: Path, upstream: Upstream | None = None, *args: str, settings: dict | None = None, **kw
):
    merged = dict(upstream.settings() if upstream else {})
    merged.update(settings or {})
    return scrapy("crawl", spider, *args, data_dir=data_dir, settings=merged, **kw)


def rows(db_path: Path, sql: str, params=()) -> list[dict]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def posts(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((data_dir / "_posts").glob("*.md"))}


def sample_records() -> list[dict]:
    """Every feed record of the sample, in the current spelling."""
    out = []
    for path in sorted(SAMPLE_UPSTREAM.glob("feed-*.json")):
        feed = json.loads(path.read_text("utf-8"))
        for r in feed.get("record") or feed.get("nodeList"):
            out.append(
                {
                    "infoCode": r.get("infoCode") or r.get("infocode"),
                    "title": r["title"],
                    "datetime": r.get("datetime") or r.get("showtime"),
                    "medianame": r.get("medianame") or r.get("from"),
                }
            )
    return out


# -- outside programs: one policy -------------------------------------------------------------
#: Debian's programs some tests need: the names to look for on PATH, the Debian package, and the
#: variable that makes the program required (``.ci/run`` sets all three, so CI never skips).
TOOLS = {
    "jekyll": (("jekyll",), "jekyll", "FINEWS_REQUIRE_JEKYLL"),
    "chromium": (("chromium", "chromium-browser"), "chromium", "FINEWS_REQUIRE_BROWSER"),
    "redis-server": (("redis-server",), "redis-server", "FINEWS_REQUIRE_REDIS"),
}


def find_tool(name: str) -> str | None:
    """The path of the outside program ``name`` (a key of :data:`TOOLS`), or ``None`` when
    it is not installed on a developer's machine; the test fails instead when the program's
    ``FINEWS_REQUIRE_*`` variable is ``1``. For a test that checks more than the program's
    part (e.g. :func:`jekyll_build` inside a crawl test): it leaves out only that part."""
    commands, package, variable = TOOLS[name]
    for command in commands:
        path = shutil.which(command)
        if path is not None:
            return path
    if os.environ.get(variable) == "1":
        pytest.fail(f"{name} is not installed (apt-get install {package}), and {variable}=1 requires it")
    return None


def require_tool(name: str) -> str:
    """The path of the outside program ``name``; the test is skipped without it, or fails
    when its ``FINEWS_REQUIRE_*`` variable is ``1`` (see :func:`find_tool`)."""
    path = find_tool(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {TOOLS[name][1]})")
    return path


def jekyll_build(source: Path, site: Path) -> None:
    """Debian's ``jekyll build`` of ``source`` succeeds and leaves nothing executable in
    any page (left out without jekyll, unless FINEWS_REQUIRE_JEKYLL=1: see :func:`find_tool`)."""
    jekyll = find_tool("jekyll")
    if jekyll is None:
        return
    built = subprocess.run(
        [jekyll, "build", "--source", str(source), "--destination", str(site)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    for page in site.rglob("*.html"):
        assert not executable_markup(page.read_text("utf-8")), page


def executable_markup(html: str) -> list[str]:
    """What in a page could run: script elements, javascript: links, event handlers.
    (Escaped text, such as a newspaper named ``<script>alert(1)</script>日报`` shown as
    ``&lt;script&gt;…``, is not.)"""
    import re

    return re.findall(r"<script\b|\b(?:href|src)\s*=\s*[\"']?\s*javascript:|\son[a-z]+\s*=", html, re.IGNORECASE)


@pytest.fixture
def upstream():
    up = Upstream.from_dir(SAMPLE_UPSTREAM).start()
    yield up
    up.stop()


@pytest.fixture(scope="session")
def sample_archive(tmp_path_factory):
    """An archive made once per session by ``scrapy crawl finews`` over the loopback
    sample (capture on), shared by read-only tests."""
    up = Upstream.from_dir(SAMPLE_UPSTREAM).start()
    data_dir = tmp_path_factory.mktemp("archive")
    result = crawl("finews", data_dir, up)
    up.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    (data_dir / "metadata.yml").write_bytes(DEFAULT_METADATA.read_bytes())
    return data_dir


@pytest.fixture(scope="session")
def replayed_archive(tmp_path_factory):
    """The quick start's archive: a real ``scrapy crawl finews`` answered from the bundled
    recording (``FINEWS_REPLAY=data/sample/upstream.warc.gz``), once per session."""
    data_dir = tmp_path_factory.mktemp("replayed")
    result = scrapy("crawl", "finews", data_dir=data_dir, settings={"FINEWS_REPLAY": str(SAMPLE_WARC)})
    assert result.returncode == 0, result.stderr[-3000:]
    return data_dir


@pytest.fixture
def redis_url():
    """A real redis-server on a free port, for this test only; skipped without Debian's
    ``redis-server`` unless ``FINEWS_REQUIRE_REDIS=1`` (CI; see :func:`require_tool`)."""
    with redis_server(require_tool("redis-server")) as url:
        yield url


def wait_until_serving(base: str, path: str, proc: subprocess.Popen | None = None, seconds: float = 20) -> None:
    """Wait until the server at ``base`` answers ``path``; fail the test with the server's
    stderr if ``proc`` (the server process) ends first, or when ``seconds`` pass."""
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + path, timeout=1)
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                pytest.fail(f"the server ended: {proc.stderr.read() if proc.stderr else proc.returncode}")
            time.sleep(0.1)
    pytest.fail(f"{base}{path} did not answer within {seconds} s")
