"""The reading site (finews_spider.site): URLs, pagination, escaping, neighbours, and what
a full build and an incremental update write, on small archives made by ArchiveDatabase
saves (and by a real crawl for the command)."""

import html
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from finews_spider.archive.database import ArchiveDatabase
from finews_spider.cleaning import derive_text_fields
from finews_spider.registry import Registry
from finews_spider.site import PAGE_SIZE, build_site, page_bounds, page_count, update_site, write_legacy_redirects
from finews_spider.site.builder import Listing, page_of_rank
from tests.conftest import ROOT

BJ = timezone(timedelta(hours=8))
T0 = datetime(2021, 12, 20, 0, 30, tzinfo=BJ)  # 00:30 Beijing = the previous day in UTC
SEEN = datetime(2021, 12, 24, 1, 0, tzinfo=UTC)
HOSTILE_TITLE = '<script>alert("t")</script> & <b>粗</b>'


def article(i: int, slug="shanxiwanbao", paper="山西晚报", title=None, when=None):
    code = f"NW{i:06d}"
    return {
        "info_code": code,
        "title": title or f"{paper}第{i}篇",
        "published_at": when or T0 + timedelta(hours=i),
        "newspaper": paper,
        "slug": slug,
        "body_html": f'<p>正文{i}。</p><p class="em_media">（文章来源：{paper}）</p>',
        "source": paper,
        "share_url": f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}",
        "fetched_at": SEEN,
    }


class Archive:
    def __init__(self, path: Path):
        self.db = ArchiveDatabase(path)
        self.db.sync_newspapers(Registry.load().papers)

    def add(self, *articles):
        self.db.save_articles(
            [
                {**a, **dict(zip(("body_text", "content_hash"), derive_text_fields(a["title"], a["body_html"])))}
                for a in articles
            ],
            SEEN,
        )
        return [a["info_code"] for a in articles]

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn


@pytest.fixture
def archive(tmp_path):
    a = Archive(tmp_path / "finews.db")
    yield a
    a.db.close()


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file: (inode, bytes). A file written again (temp file + rename) gets a new inode."""
    return {p.relative_to(root).as_posix(): (p.stat().st_ino, p.read_bytes()) for p in root.rglob("*") if p.is_file()}


def rewritten(before: dict, after: dict) -> set[str]:
    return {name for name, (ino, _) in after.items() if name not in before or before[name][0] != ino}


def contents(root: Path) -> dict[str, bytes]:
    return {name: data for name, (_, data) in snapshot(root).items()}


def url(i: int) -> str:
    return f"shanxiwanbao/{T0 + timedelta(hours=i):%Y/%m/%d}/NW{i:06d}.html"


def links(page: Path) -> list[str]:
    return re.findall(r'href="([^"]+)"', page.read_text("utf-8"))


# -- pure pagination ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "n, pages, front",
    [
        (0, 0, (0, 0)),
        (1, 0, (0, 1)),
        (PAGE_SIZE, 0, (0, PAGE_SIZE)),
        (PAGE_SIZE + 1, 0, (0, PAGE_SIZE + 1)),
        (2 * PAGE_SIZE - 1, 0, (0, 2 * PAGE_SIZE - 1)),
        (2 * PAGE_SIZE, 1, (PAGE_SIZE, 2 * PAGE_SIZE)),
        (5 * PAGE_SIZE + 7, 4, (4 * PAGE_SIZE, 5 * PAGE_SIZE + 7)),
    ],
)
def test_pagination_counts_from_the_oldest(n, pages, front):
    assert page_count(n) == pages
    assert page_bounds(n, 0) == front
    covered = [r for k in range(1, pages + 1) for r in range(*page_bounds(n, k))] + list(range(*front))
    assert covered == list(range(n))  # every article on exactly one page, in order
    for k in range(1, pages + 1):
        assert page_bounds(n, k) == ((k - 1) * PAGE_SIZE, k * PAGE_SIZE)  # independent of n: stable
        assert all(page_of_rank(n, r) == k for r in range(*page_bounds(n, k)))
    assert all(page_of_rank(n, r) == 0 for r in range(*front))
    with pytest.raises(ValueError):
        page_bounds(n, pages + 1)


def test_pages_to_render_after_a_change():
    entries = [None] * (3 * PAGE_SIZE)
    listing = Listing.__new__(Listing)
    listing.entries = entries
    assert listing.pages == 2
    assert listing.pages_from_rank(3 * PAGE_SIZE - 1) == [0, 1, 2]  # newest: front, and the last two numbered
    assert listing.pages_from_rank(0) == [0, 1, 2]
    listing.entries = [None] * (10 * PAGE_SIZE)
    assert listing.pages_from_rank(10 * PAGE_SIZE - 1) == [0, 8, 9]
    assert listing.pages_from_rank(2 * PAGE_SIZE) == [0, 3, 4, 5, 6, 7, 8, 9]  # a backfill: its page and newer
    listing.entries = [None] * 10
    assert listing.pages_from_rank(9) == [0]


# -- pages ------------------------------------------------------------------------------------
def test_urls_pages_and_escaping(archive, tmp_path):
    archive.add(article(1, title=HOSTILE_TITLE), article(2), article(3, slug="haikouwanbao", paper="海口晚报"))
    archive.conn.execute("UPDATE newspapers SET name=? WHERE slug='haikouwanbao'", ('海口<i>晚报</i>"&',))
    out = tmp_path / "site"
    stats = build_site(archive.conn, out)
    assert stats["articles"] == 3 and stats["written"] > 0
    # The Jekyll permalink: the Beijing date of the article (00:30 on the 20th + 1 h).
    page = out / "shanxiwanbao/2021/12/20/NW000001.html"
    assert page.is_file() and (out / "haikouwanbao/2021/12/20/NW000003.html").is_file()
    text = page.read_text("utf-8")
    assert html.escape(HOSTILE_TITLE, quote=False) in text.replace("&#34;", '"')
    assert "<script>alert" not in text and "<b>粗</b>" not in text
    assert "<p>正文1。</p>" in text  # the body as archived, not escaped
    assert "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW000001" in text
    assert 'href="/category/shanxiwanbao.html"' in text and "山西晚报" in text
    for listed in (out / "index.html", out / "category/shanxiwanbao.html"):
        body = listed.read_text("utf-8")
        assert "&lt;script&gt;" in body and "<script>" not in body
    papers = (out / "newspapers.html").read_text("utf-8")
    assert "海口&lt;i&gt;晚报&lt;/i&gt;&#34;&amp;" in papers and "<i>晚报" not in papers
    assert "山西" in papers and 'href="/category/haikouwanbao.html"' in papers
    assert "海口&lt;i&gt;晚报" in (out / "category/haikouwanbao.html").read_text("utf-8")
    # Every registry paper has its page, even without articles; every internal link resolves.
    assert (out / "category/anhuiribao.html").is_file()
    for source in (page, out / "index.html", out / "newspapers.html", out / "category/shanxiwanbao.html"):
        for href in links(source):
            if href.startswith("/"):
                assert (out / href.lstrip("/")).is_file(), (source, href)


def test_site_url_prefixes_links(archive, tmp_path):
    archive.add(article(1))
    build_site(archive.conn, tmp_path / "site", site_url="https://example.org/archive/")
    hrefs = links(tmp_path / "site/shanxiwanbao/2021/12/20/NW000001.html")
    assert "https://example.org/archive/category/shanxiwanbao.html" in hrefs
    assert "https://example.org/archive/site.css" in hrefs


def test_neighbours_in_the_same_paper(archive, tmp_path):
    archive.add(article(1), article(2, slug="haikouwanbao", paper="海口晚报"), article(3), article(4))
    out = tmp_path / "site"
    build_site(archive.conn, out)
    middle = links(out / "shanxiwanbao/2021/12/20/NW000003.html")
    assert "/shanxiwanbao/2021/12/20/NW000001.html" in middle  # older, skipping the other paper's
    assert "/shanxiwanbao/2021/12/20/NW000004.html" in middle  # newer
    assert not any("NW000002" in h for h in middle)
    first = (out / "shanxiwanbao/2021/12/20/NW000001.html").read_text("utf-8")
    assert "上一篇" not in first and "下一篇" in first
    last = (out / "shanxiwanbao/2021/12/20/NW000004.html").read_text("utf-8")
    assert "下一篇" not in last and "上一篇" in last


@pytest.mark.parametrize("n", [0, 1, PAGE_SIZE, PAGE_SIZE + 1, 2 * PAGE_SIZE, 2 * PAGE_SIZE + 1])
def test_pagination_boundaries(archive, tmp_path, n):
    archive.add(*[article(i) for i in range(n)]) if n else None
    out = tmp_path / "site"
    build_site(archive.conn, out)
    front = (out / "category/shanxiwanbao.html").read_text("utf-8")
    numbered = sorted(p.name for p in (out / "category/shanxiwanbao/page").glob("*.html")) if n else []
    pages = page_count(n)
    assert numbered == [f"{k}.html" for k in range(1, pages + 1)]
    assert sorted(p.name for p in (out / "page").glob("*.html")) == numbered  # one paper: home pages alike
    listed = re.findall(r"NW(\d{6})\.html", front)
    assert [int(x) for x in listed] == list(range(n - 1, pages * PAGE_SIZE - 1, -1))  # newest first
    assert ("暂无文章" in front) == (n == 0)
    if pages:
        page1 = (out / "category/shanxiwanbao/page/1.html").read_text("utf-8")
        assert [int(x) for x in re.findall(r"NW(\d{6})\.html", page1)] == list(range(PAGE_SIZE - 1, -1, -1))
        assert 'href="/category/shanxiwanbao/page/1.html"' in front  # the front links to older pages
        assert 'href="/category/shanxiwanbao.html"' in page1  # … and back


# -- full build and update --------------------------------------------------------------------
def test_rebuild_writes_nothing(archive, tmp_path):
    archive.add(*[article(i) for i in range(60)], article(99, slug="haikouwanbao", paper="海口晚报"))
    out = tmp_path / "site"
    first = build_site(archive.conn, out)
    before = snapshot(out)
    again = build_site(archive.conn, out)
    assert again["written"] == 0 and again["unchanged"] == first["written"] and again["removed"] == 0
    assert rewritten(before, snapshot(out)) == set()
    codes = [f"NW{i:06d}" for i in range(60)]
    assert update_site(archive.conn, out, codes)["written"] == 0
    assert rewritten(before, snapshot(out)) == set()


def check_update(archive, out, tmp_path, codes, **kw) -> set[str]:
    """Run update_site; the result must equal a fresh full build. Returns the rewritten files."""
    before = snapshot(out)
    update_site(archive.conn, out, codes, **kw)
    after = snapshot(out)
    fresh = tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}"
    build_site(archive.conn, fresh)
    assert contents(out) == contents(fresh)
    return rewritten(before, after)


def test_update_with_a_new_article_rewrites_only_its_pages(archive, tmp_path):
    archive.add(*[article(i) for i in range(3 * PAGE_SIZE + 10)], article(900, slug="haikouwanbao", paper="海口晚报"))
    out = tmp_path / "site"
    build_site(archive.conn, out)
    new = archive.add(article(1000))
    assert check_update(archive, out, tmp_path, new) == {
        url(1000),
        url(3 * PAGE_SIZE + 9),  # the new article and its older neighbour
        "index.html",
        "category/shanxiwanbao.html",
        "newspapers.html",
        "feed.xml",
        "category/shanxiwanbao.xml",
    }


def test_update_crossing_a_page_boundary_adds_one_page(archive, tmp_path):
    archive.add(*[article(i) for i in range(2 * PAGE_SIZE - 1)])
    out = tmp_path / "site"
    build_site(archive.conn, out)
    assert not (out / "page/1.html").exists()
    new = archive.add(article(2 * PAGE_SIZE - 1))
    changed = check_update(archive, out, tmp_path, new)
    assert {"page/1.html", "category/shanxiwanbao/page/1.html", "index.html", "category/shanxiwanbao.html"} <= changed
    archive.add(*[article(i) for i in range(2 * PAGE_SIZE, 3 * PAGE_SIZE - 1)])
    build_site(archive.conn, out)
    new = archive.add(article(3 * PAGE_SIZE - 1))
    changed = check_update(archive, out, tmp_path, new)
    # Page 2 appears; page 1 only changes its "newer" link; nothing older than that.
    assert {p for p in changed if p.startswith("page/") or "/page/" in p} == {
        "page/1.html",
        "page/2.html",
        "category/shanxiwanbao/page/1.html",
        "category/shanxiwanbao/page/2.html",
    }
    assert len([p for p in changed if p.endswith(".html") and p.count("/") == 4]) == 2  # the new article and its older


def test_update_after_a_backfill_rewrites_from_its_page(archive, tmp_path):
    archive.add(*[article(i) for i in range(10, 6 * PAGE_SIZE)])
    out = tmp_path / "site"
    build_site(archive.conn, out)
    # Rank 146 of 291 (articles 10 … 155 precede it): numbered page 3 of 4.
    new = archive.add(article(5, when=T0 + timedelta(hours=155, minutes=30)))
    changed = check_update(archive, out, tmp_path, new)
    assert {p for p in changed if "/page/" in p} == {
        "category/shanxiwanbao/page/3.html",
        "category/shanxiwanbao/page/4.html",
    }


def test_update_of_a_moved_article_with_its_previous_place(archive, tmp_path):
    archive.add(*[article(i) for i in range(3 * PAGE_SIZE)])
    out = tmp_path / "site"
    build_site(archive.conn, out)
    old = archive.conn.execute("SELECT slug, published_at FROM articles WHERE info_code='NW000005'").fetchone()
    archive.add(article(5, when=T0 + timedelta(days=30)))  # its date was corrected
    changed = check_update(archive, out, tmp_path, ["NW000005"], previous={"NW000005": tuple(old)})
    assert not (out / url(5)).exists()
    assert "category/shanxiwanbao/page/1.html" in changed


def test_full_build_prunes_moved_pages(archive, tmp_path):
    archive.add(*[article(i) for i in range(3)])
    out = tmp_path / "site"
    build_site(archive.conn, out)
    (out / "notes.txt").write_text("mine")
    archive.add(article(1, when=T0 + timedelta(days=40)))
    stats = build_site(archive.conn, out)
    assert stats["removed"] == 1
    assert not (out / "shanxiwanbao/2021/12/20/NW000001.html").exists()
    assert (out / f"shanxiwanbao/{T0 + timedelta(days=40):%Y/%m/%d}/NW000001.html").is_file()
    assert (out / "notes.txt").read_text() == "mine"


def test_legacy_redirects(tmp_path):
    assert write_legacy_redirects(tmp_path, {"shanxiwb": "shanxiwanbao", "same": "same"}) == 1
    page = (tmp_path / "category/shanxiwb.html").read_text("utf-8")
    assert '<meta http-equiv="refresh" content="0; url=/category/shanxiwanbao.html">' in page
    assert '<a href="/category/shanxiwanbao.html">' in page
    assert not (tmp_path / "category/same.html").exists()
    with pytest.raises(Exception, match="bad slug"):
        write_legacy_redirects(tmp_path, {"../x": "shanxiwanbao"})


# -- the command ---------------------------------------------------------------------------------
def scrapy_site(*args, data_dir):
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "site", *args, "-s", f"FINEWS_DATA_DIR={data_dir}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_scrapy_site_command(sample_archive, tmp_path):
    out = tmp_path / "site"
    result = scrapy_site(str(out), data_dir=sample_archive)
    assert result.returncode == 0, result.stderr
    assert "34 articles" in result.stdout
    assert (out / "index.html").is_file() and (out / "category/shanxiwanbao.html").is_file()
    assert (out / "shanxiwanbao/2021/12/23/NW202112232223130395.html").is_file()
    again = scrapy_site(str(out), data_dir=sample_archive)
    assert again.returncode == 0 and " 0 files written" in again.stdout
    update = scrapy_site(str(out), "--changed-since", "2000-01-01", data_dir=sample_archive)
    assert update.returncode == 0 and " 0 files written" in update.stdout and "34 articles" in update.stdout


def test_scrapy_site_failures(sample_archive, tmp_path):
    missing = scrapy_site(str(tmp_path / "site"), data_dir=tmp_path / "nothing")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"scrapy site: no archive at {tmp_path / 'nothing' / 'finews.db'}: run a crawl first"
    ]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for target in (blocker, blocker / "site"):
        bad = scrapy_site(str(target), data_dir=sample_archive)
        assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
        assert bad.stderr.startswith("scrapy site: cannot") and str(blocker) in bad.stderr
    usage = scrapy_site(data_dir=sample_archive)
    assert usage.returncode == 2


def test_atom_feeds(archive, tmp_path):
    import xml.etree.ElementTree as ET

    archive.add(
        *[article(i) for i in range(60)], article(100, slug="haikouwanbao", paper="海口晚报", title=HOSTILE_TITLE)
    )
    out = tmp_path / "site"
    build_site(archive.conn, out)
    atom = "{http://www.w3.org/2005/Atom}"
    home = ET.parse(out / "feed.xml").getroot()
    entries = home.findall(f"{atom}entry")
    assert len(entries) == 50
    assert entries[0].find(f"{atom}title").text == HOSTILE_TITLE  # escaped in XML, read back unchanged
    assert entries[1].find(f"{atom}link").get("href") == "/" + url(59)
    assert entries[1].find(f"{atom}content").text.startswith("<p>正文59。</p>")
    paper = ET.parse(out / "category/shanxiwanbao.xml").getroot()
    assert [e.find(f"{atom}id").text[-8:] for e in paper.findall(f"{atom}entry")][:2] == ["NW000059", "NW000058"]
    assert 'href="/category/shanxiwanbao.xml"' in (out / "category/shanxiwanbao.html").read_text("utf-8")
    ET.parse(out / "category/anhuiribao.xml")  # an empty paper's feed is valid too


def test_the_site_sink_follows_the_archives_batches(tmp_path):
    """The ``site`` sink: off without FINEWS_SITE_DIR; with it, a full build after the
    first committed batch, then the pages each batch's changed articles touch, linked
    with the site_url the site was built with."""
    from finews_spider.archive import Archive as Storage
    from finews_spider.config import project_config
    from finews_spider.site.builder import built_site_url

    def prepared(*articles):
        return [{**a, "content_hash": derive_text_fields(a["title"], a["body_html"])[1]} for a in articles]

    without = Storage(project_config(data_dir=tmp_path / "a", lock=False))
    try:
        assert "site" not in without.sinks
    finally:
        without.close()
    site = tmp_path / "site"
    storage = Storage(project_config(data_dir=tmp_path / "b", site_dir=site, lock=False))
    try:
        assert "site" in storage.sinks
        storage.publish_batch(prepared(article(1), article(2)), SEEN)  # no site yet: a full build
        assert (site / url(1)).is_file() and (site / "category/anhuiribao.html").is_file()
        assert built_site_url(site) == "/"
        (site / ".finews-site").write_text("finews site\nsite_url: /archive/\n")  # as if built with --site-url
        before = snapshot(site)
        storage.publish_batch(prepared(article(3)), SEEN)
        assert (site / url(3)).is_file() and url(3) in rewritten(before, snapshot(site))
        assert 'href="/archive/' in (site / url(3)).read_text("utf-8")  # the built site's links, not "/"
        assert url(1) not in rewritten(before, snapshot(site))  # pages the batch does not touch
    finally:
        storage.close()


def test_a_crawl_with_finews_site_dir_updates_the_site_after_each_batch(upstream, tmp_path):
    """FINEWS_SITE_DIR: the archive brings the reading site up to date after each
    committed batch, so a crawl ends with the site of its archive."""
    from tests.conftest import crawl

    site = tmp_path / "site"
    result = crawl("shanxiwanbao", tmp_path / "data", upstream, settings={"FINEWS_SITE_DIR": str(site)})
    assert result.returncode == 0, result.stderr[-3000:]
    pages = sorted(p.relative_to(site).as_posix() for p in (site / "shanxiwanbao").rglob("*.html"))
    assert len(pages) == 7 and "shanxiwanbao/2021/12/23/NW202112232223130395.html" in pages
    assert "中国人寿山西省分公司" in (site / "index.html").read_text("utf-8")


def test_the_newspapers_page_groups_by_real_provinces(archive, tmp_path):
    """Province and city are kept apart (newspapers.province, .city): the page lists
    provinces (at most the 31 of mainland China, and 其他 for papers missing from the
    registry), never a city's name joined to its province (安徽合肥, 山东青岛)."""
    archive.add(article(1), article(2, slug="hefeiwanbao", paper="合肥晚报"), article(3, slug="x", paper="某某报"))
    out = tmp_path / "site"
    build_site(archive.conn, out)
    groups = re.findall(r"<dt>(.*?)</dt>", (out / "newspapers.html").read_text("utf-8"))
    registry = Registry.load()
    provinces = {paper.province for paper in registry.papers}
    assert set(groups) <= provinces | {"其他"} and len(groups) == len(set(groups))
    assert len(provinces) <= 31 and "安徽" in groups and "山东" in groups and "其他" in groups
    assert not any(g.startswith(p) and g != p for g in groups for p in provinces)
    hefei = registry.by_name["合肥晚报"]
    assert archive.conn.execute("SELECT province, city FROM newspapers WHERE slug=?", (hefei.slug,)).fetchone() == (
        "安徽",
        "合肥",
    )


def test_the_site_never_overwrites_or_removes_a_file_it_did_not_write(archive, tmp_path):
    """A user's index.html, a note under a post's folder, a page of our URL shapes that is
    theirs: the build stops (ForeignFile, naming the file) and leaves each as it was."""
    from finews_spider.site.builder import ForeignFile, is_ours

    archive.add(article(1), article(2))
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("<p>my own page</p>")
    with pytest.raises(ForeignFile) as caught:
        build_site(archive.conn, out)
    assert caught.value.path == out / "index.html" and (out / "index.html").read_text() == "<p>my own page</p>"
    (out / "index.html").unlink()
    build_site(archive.conn, out)  # now it builds, and every file it wrote is marked as its own
    assert all(is_ours(p) for p in out.rglob("*") if p.is_file())
    note = out / "shanxiwanbao/2021/12/20/NOTE.html"
    note.write_text("my notes")  # our URL shape, not our file: a full build would prune it
    (out / "page").mkdir(exist_ok=True)
    (out / "page/7.html").write_text("mine too")
    with pytest.raises(ForeignFile):
        build_site(archive.conn, out)
    assert note.read_text() == "my notes" and (out / "page/7.html").read_text() == "mine too"
    (out / "page/7.html").unlink()
    with pytest.raises(ForeignFile):
        build_site(archive.conn, out)
    assert note.read_text() == "my notes"
    note.unlink()
    stats = build_site(archive.conn, out)
    assert stats["written"] == 0 and not list(out.rglob(".*.tmp"))


@pytest.mark.slow  # crawls, then runs scrapy site
def test_scrapy_site_refuses_the_archive_root_and_home_and_foreign_files(tmp_path):
    """One line and exit 2: the data folder, /, the home folder, a user's file."""
    from tests.conftest import SAMPLE_WARC, scrapy

    data = tmp_path / "data"
    assert scrapy("crawl", "finews", data_dir=data, settings={"FINEWS_REPLAY": str(SAMPLE_WARC)}).returncode == 0
    before = sorted(p.relative_to(data) for p in data.rglob("*"))
    for target, says in [
        (data, "is the archive's own"),
        (data / "site", "is the archive's own"),
        (Path("/"), "is /: build the site"),
        (Path.home(), "is the home folder"),
    ]:
        result = scrapy("site", str(target), data_dir=data)
        assert result.returncode == 2 and says in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.relative_to(data) for p in data.rglob("*")) == before
    out = tmp_path / "site"
    out.mkdir()
    (out / "site.css").write_text("/* mine */")
    result = scrapy("site", str(out), data_dir=data)
    assert result.returncode == 2 and f"{out / 'site.css'} was not written by scrapy site" in result.stderr
    assert (out / "site.css").read_text() == "/* mine */"
    bad = scrapy("crawl", "finews", data_dir=data, settings={"FINEWS_SITE_DIR": str(data / "public")})
    assert bad.returncode == 2 and "FINEWS_SITE_DIR=" in bad.stderr and "is the archive's own" in bad.stderr
