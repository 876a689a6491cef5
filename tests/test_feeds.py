"""The archive's Atom feeds for readers (``data/feed/<slug>.xml``, ``data/feed/all.xml``),
written by ``Archive.publish_batch`` after each committed batch, checked with feedparser
(a maintained feed parser: ``bozo`` means the feed is not well formed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import feedparser
import pytest

from finews_spider.archive import Archive
from finews_spider.cleaning import derive_text_fields
from finews_spider.config import project_config
from finews_spider.exporters.atom import FeedEntry, format_feed

BJ = timezone(timedelta(hours=8))
T0 = datetime(2021, 12, 20, 0, 30, tzinfo=BJ)
SEEN = datetime(2021, 12, 24, 1, 0, tzinfo=UTC)
HOSTILE_TITLE = '<script>alert("t")</script> & <b>粗</b> ]]> \x0b\ufffe'
HOSTILE_PAPER = '测"试<日报>&'


def article(i: int, paper="山西晚报", title=None, when=None) -> dict:
    code = f"NW{i:06d}"
    a = {
        "info_code": code,
        "title": title or f"{paper}第{i}篇",
        "published_at": when or T0 + timedelta(hours=i),
        "newspaper": paper,
        "body_html": f"<p>正文{i}。</p>",
        "source": paper,
        "share_url": f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}",
        "fetched_at": SEEN,
    }
    a["body_text"], a["content_hash"] = derive_text_fields(a["title"], a["body_html"])
    return a


@pytest.fixture
def archive(tmp_path):
    a = Archive(project_config(data_dir=tmp_path, site_url="https://example.org/archive", lock=False))
    yield a
    a.close()


def parse(path):
    feed = feedparser.parse(path.read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    return feed


def test_feeds_of_a_batch_newest_50(archive, tmp_path):
    archive.publish_batch([article(i) for i in range(60)] + [article(100, paper="海口晚报")], SEEN)
    paper = parse(tmp_path / "feed" / "shanxiwanbao.xml")
    assert [e.id[-8:] for e in paper.entries] == [f"NW{i:06d}" for i in range(59, 9, -1)]  # newest 50, newest first
    first = paper.entries[0]
    assert first.title == "山西晚报第59篇" and first.author == "山西晚报"
    assert first.published == (T0 + timedelta(hours=59)).isoformat()
    links = {link.rel: link.href for link in first.links}
    when = T0 + timedelta(hours=59)
    assert links["alternate"] == f"https://example.org/archive/shanxiwanbao/{when:%Y/%m/%d}/NW000059.html"
    assert links["related"] == "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW000059"
    assert paper.feed.link == "https://example.org/archive/category/shanxiwanbao.html"
    every = parse(tmp_path / "feed" / "all.xml")
    assert len(every.entries) == 50 and every.entries[0].author == "海口晚报"
    assert {e.tags[0].term for e in every.entries} == {"shanxiwanbao", "haikouwanbao"}
    assert not list((tmp_path / "feed").glob(".*"))  # no temporary left


def test_only_the_changed_papers_are_rewritten(archive, tmp_path):
    archive.publish_batch([article(1), article(2, paper="海口晚报")], SEEN)
    before = {p.name: p.stat().st_ino for p in (tmp_path / "feed").iterdir()}
    assert set(before) == {"shanxiwanbao.xml", "haikouwanbao.xml", "all.xml"}
    archive.publish_batch([article(3, paper="海口晚报"), article(1)], SEEN)  # article 1 unchanged
    after = {p.name: p.stat().st_ino for p in (tmp_path / "feed").iterdir()}
    assert after["shanxiwanbao.xml"] == before["shanxiwanbao.xml"]
    assert after["haikouwanbao.xml"] != before["haikouwanbao.xml"] and after["all.xml"] != before["all.xml"]
    assert parse(tmp_path / "feed" / "haikouwanbao.xml").entries[0].id.endswith("NW000003")


def test_hostile_titles_and_names_are_escaped(archive, tmp_path):
    archive.publish_batch([article(1, title=HOSTILE_TITLE), article(2, paper=HOSTILE_PAPER)], SEEN)
    every = parse(tmp_path / "feed" / "all.xml")
    by_id = {e.id[-8:]: e for e in every.entries}
    assert by_id["NW000001"].title == '<script>alert("t")</script> & <b>粗</b> ]]>'  # XML-illegal characters dropped
    assert by_id["NW000002"].author == HOSTILE_PAPER
    raw = (tmp_path / "feed" / "all.xml").read_text("utf-8")
    assert "<script>" not in raw and "&lt;script&gt;" in raw


def test_format_feed_without_entries_is_valid():
    xml = format_feed(
        feed_id="tag:x,2021:empty",
        title="空",
        self_url="https://e.org/f.xml",
        alternate_url="https://e.org/",
        entries=[],
    )
    assert parse_text(xml).feed.title == "空"
    one = FeedEntry(
        entry_id="tag:x,2021:a",
        title="a\x00b",
        url="https://e.org/a?x=1&y=2",
        published="2021-12-20T00:30:00+08:00",
        newspaper="报",
        content_html="<p>x & y</p>",
    )
    entry = parse_text(
        format_feed(feed_id="tag:x,2021:f", title="t", self_url="s", alternate_url="a", entries=[one])
    ).entries[0]
    assert entry.title == "ab" and entry.link == "https://e.org/a?x=1&y=2" and entry.content[0].value == "<p>x & y</p>"


def parse_text(xml: str):
    feed = feedparser.parse(xml.encode("utf-8"))
    assert feed.bozo == 0, feed.get("bozo_exception")
    return feed


def test_rebuild_writes_every_feed(archive, tmp_path):
    archive.publish_batch([article(1), article(2, paper="海口晚报")], SEEN)
    for feed in (tmp_path / "feed").iterdir():
        feed.unlink()
    archive.rebuild()
    assert {p.name for p in (tmp_path / "feed").iterdir()} == {"shanxiwanbao.xml", "haikouwanbao.xml", "all.xml"}
