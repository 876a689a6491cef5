"""End-to-end crawls: the real ``scrapy crawl`` against the sample on a loopback server."""

import json

import pytest
import yaml

from finews_spider.cleaning import html_to_text
from tests.conftest import REFERENCE_POST, crawl, posts, rows, sample_records, scrapy

pytestmark = pytest.mark.slow  # every test here starts processes (docs/testing.md)

REF = "NW202112232223130395"


def test_newspaper_spider_writes_reference_post_and_only_its_paper(upstream, tmp_path):
    result = crawl("shanxiwanbao", tmp_path, upstream)
    assert result.returncode == 0, result.stderr[-3000:]
    written = posts(tmp_path)
    expected = {r["infoCode"] for r in sample_records() if r["medianame"] == "山西晚报"}
    assert {name[11:-3] for name in written} == expected
    assert written[REFERENCE_POST.name] == REFERENCE_POST.read_bytes()
    assert sorted(p.name for p in (tmp_path / "category").iterdir()) == ["shanxiwanbao.html"]
    # Every market type's feed is read; only 山西晚报's texts are fetched.
    assert sorted(r for r in upstream.requests if r.startswith("feed")) == ["feed:37", "feed:38", "feed:39"]
    assert upstream.count("text:") == len(expected)


def test_catch_all_spider_archives_every_article_once(upstream, tmp_path):
    result = crawl("finews", tmp_path, upstream)
    assert result.returncode == 0, result.stderr[-3000:]
    codes = {r["infoCode"] for r in sample_records()}
    assert len(posts(tmp_path)) == len(codes)
    # Two articles are listed in two market types: each is fetched once.
    assert upstream.count("text:") == len(codes)
    assert posts(tmp_path)[REFERENCE_POST.name] == REFERENCE_POST.read_bytes()
    slugs = {p.stem for p in (tmp_path / "category").iterdir()}
    assert {
        "shanxiwanbao",
        "shaanxiribao",
        "shanxiribao",
        "hainantequbao",
        "dahebao",
        "guangzhouribao",
        "yunchengribao",
    } == slugs
    page = (tmp_path / "category" / "shaanxiribao.html").read_text("utf-8")
    assert yaml.safe_load(page.split("---\n")[1]) == {
        "layout": "category",
        "title": "陕西日报新闻",
        "category": "shaanxiribao",
    }


def test_rows_hold_every_item_field(sample_archive):
    [row] = rows(sample_archive / "finews.db", "SELECT * FROM articles WHERE info_code=?", (REF,))
    assert row["title"] == "中国人寿山西省分公司：走前列做表率 推动山西高质量发展"
    assert row["published_at"] == "2021-12-23T07:25:33+08:00"
    assert row["newspaper"] == "山西晚报" and row["slug"] == "shanxiwanbao" and row["source"] == "山西晚报"
    assert row["share_url"] == f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={REF}"
    assert row["body_html"].startswith("<p>2021年是“十四五”规划的开局之年")
    assert "body_text" not in row  # derived from body_html where needed: exports, snippets
    assert row["fetched_at"].endswith("+00:00") and row["content_hash"]
    papers = {r["slug"]: r for r in rows(sample_archive / "finews.db", "SELECT * FROM newspapers")}
    assert len(papers) >= 30
    assert papers["shanxiwanbao"]["article_count"] == 7
    assert (papers["shanxiwanbao"]["province"], papers["shanxiwanbao"]["city"]) == ("山西", None)
    assert papers["yunchengribao"]["name"] == "运城日报"


def test_second_crawl_does_not_duplicate_rows(upstream, tmp_path):
    assert crawl("finews", tmp_path, upstream).returncode == 0
    before = rows(tmp_path / "finews.db", "SELECT info_code, title, body_html FROM articles ORDER BY info_code")
    result = crawl("finews", tmp_path, upstream, "-a", "refresh=1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert rows(tmp_path / "finews.db", "SELECT info_code, title, body_html FROM articles ORDER BY info_code") == before
    assert rows(tmp_path / "finews.db", "SELECT count(*) AS n FROM revisions") == [{"n": 0}]


def test_share_urls_are_archived_without_the_feed(upstream, tmp_path):
    code = next(r["infoCode"] for r in sample_records() if r["medianame"] == "大河报")
    upstream.texts[code] = {
        **upstream.texts[code],
        "title": "大河报标题",
        "datetime": "2021年12月24日 08:40",
        "medianame": "大河报",
    }
    urls = f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code},not-a-url"
    result = crawl("shanxiwanbao", tmp_path, upstream, "-a", f"urls={urls}")
    assert not any(r.startswith("feed") for r in upstream.requests)
    assert "not an http(s) URL: 'not-a-url'" in result.stderr
    [row] = rows(tmp_path / "finews.db", "SELECT * FROM articles")
    assert (row["info_code"], row["title"], row["published_at"], row["slug"]) == (
        code,
        "大河报标题",
        "2021-12-24T08:40:00+08:00",
        "dahebao",
    )
    # One of two URLs was malformed: over the error threshold, so the run says it failed.
    assert result.returncode == 1


def test_url_file(upstream, tmp_path):
    url_file = tmp_path / "urls.txt"
    url_file.write_text(
        f"# sent by an analyst\nhttp://finews.zning.xyz/html_News/NewsShare.html?infoCode={REF}\n\n", "utf-8"
    )
    upstream.texts[REF] = {
        **upstream.texts[REF],
        "title": "中国人寿山西省分公司：走前列做表率 推动山西高质量发展",
        "datetime": "2021-12-23 07:25:33",
        "medianame": "山西晚报",
    }
    result = crawl("finews", tmp_path / "data", upstream, "-a", f"url_file={url_file}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert posts(tmp_path / "data") == {REFERENCE_POST.name: REFERENCE_POST.read_bytes()}


SHARE_REF = f"urls=http://finews.zning.xyz/html_News/NewsShare.html?infoCode={REF}"


def test_share_url_without_metadata_is_described_by_the_feeds(upstream, tmp_path):
    """The recorded text response has only ``text``: title, date and paper come from the
    feeds, read once in that run; the post is the reference post, byte for byte."""
    assert set(upstream.texts[REF]) == {"text"}
    result = crawl("shaanxiribao", tmp_path, upstream, "-a", SHARE_REF)
    assert result.returncode == 0, result.stderr[-3000:]
    assert upstream.count("feed:") == 3 and "'finews/described_by_feed': 1" in result.stderr
    assert posts(tmp_path) == {REFERENCE_POST.name: REFERENCE_POST.read_bytes()}


def test_share_url_without_metadata_is_described_by_the_archive(upstream, tmp_path):
    assert crawl("finews", tmp_path, upstream).returncode == 0
    before = len(upstream.requests)
    result = crawl("finews", tmp_path, upstream, "-a", SHARE_REF)
    assert result.returncode == 0, result.stderr[-3000:]
    assert upstream.requests[before:] == [f"text:{REF}"]  # no feed read: the archive knew it
    assert "'finews/described_by_archive': 1" in result.stderr
    assert "unchanged=1" in result.stderr
    assert posts(tmp_path)[REFERENCE_POST.name] == REFERENCE_POST.read_bytes()


def test_share_url_nobody_describes_is_dropped_with_reason(upstream, tmp_path):
    for feed in upstream.feeds.values():
        key = "record" if "record" in feed else "nodeList"  # both spellings are in the sample
        feed[key] = [r for r in feed[key] if REF not in (r.get("infoCode"), r.get("infocode"))]
    result = crawl("finews", tmp_path, upstream, "-a", SHARE_REF)
    assert (
        f"article '{REF}' dropped (no_title): the text endpoint gave no title and neither the feeds nor "
        "the archive list this article"
    ) in result.stderr
    assert "'finews/dropped/no_title': 1" in result.stderr and upstream.count("feed:") == 3
    assert not (tmp_path / "_posts").exists() or not list((tmp_path / "_posts").iterdir())


def test_feed_export_gives_the_database_fields(upstream, tmp_path):
    out = tmp_path / "articles.jsonl"
    result = crawl("shanxiwanbao", tmp_path, upstream, "-O", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    exported = {a["info_code"]: a for a in map(json.loads, out.read_text("utf-8").splitlines())}
    db_rows = {r["info_code"]: r for r in rows(tmp_path / "finews.db", "SELECT * FROM articles")}
    assert exported.keys() == db_rows.keys()
    mentions = rows(tmp_path / "finews.db", "SELECT * FROM mentions")
    for code, item in exported.items():
        # Every column of the row, the ones the archive decides included.
        assert set(db_rows[code]) <= set(item), set(db_rows[code]) - set(item)
        for field, value in item.items():
            if field == "mentions":  # a table of its own
                assert value == [
                    {k: m[k] for k in ("kind", "market", "code", "name", "exchange")}
                    for m in mentions
                    if m["info_code"] == code
                ]
                continue
            if field == "body_text":  # not stored: derived from body_html wherever it is needed
                assert value == html_to_text(db_rows[code]["body_html"])
                continue
            assert db_rows[code][field] == value, field
    assert exported[REF]["published_at"] == "2021-12-23T07:25:33+08:00"


def test_bad_articles_are_dropped_counted_and_never_written(upstream, tmp_path):
    upstream.feeds["37"] = {
        "record": [
            {"infoCode": "../../etc/passwd", "title": "t", "datetime": "2021-12-23 07:25:33", "medianame": "山西晚报"},
            {"infoCode": "NW1", "title": "无日期", "datetime": "昨天", "medianame": "山西晚报"},
            {"infoCode": "NW2", "title": "空正文", "datetime": "2021-12-23 07:25:33", "medianame": "山西晚报"},
            {"infoCode": "NW3", "title": "好的", "datetime": "2021-12-23 07:25:33", "medianame": "山西晚报"},
        ]
    }
    upstream.feeds["38"] = upstream.feeds["39"] = {"record": []}
    upstream.texts.update(
        {
            "../../etc/passwd": {"text": "<p>x</p>"},
            "NW1": {"text": "<p>x</p>"},
            "NW2": {"text": "<p>&nbsp;</p><script>x</script>"},
            "NW3": {"text": "<p>正文</p>"},
        }
    )
    result = crawl("shanxiwanbao", tmp_path, upstream)
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(posts(tmp_path)) == ["2021-12-23-NW3.md"]
    for stat in (
        "'finews/dropped/info_code': 1",
        "'finews/dropped/date': 1",
        "'finews/dropped/empty_body': 1",
        "'finews/articles_dropped': 3",
    ):
        assert stat in result.stderr, stat
    assert "unrecognised date '昨天'" in result.stderr
    assert not (tmp_path.parent / "etc").exists()


def test_unusable_arguments_and_settings_exit_2_with_a_clear_line(tmp_path):
    cases = [
        (["crawl", "finews", "-a", f"url_file={tmp_path / 'missing.txt'}"], "not started: url_file"),
        (["crawl", "finews", "-a", "urls=,"], "not started: urls / url_file given, but no URL in them"),
        (
            ["crawl", "finews", "-s", "FINEWS_EXPORTERS=csv"],
            "not started: FINEWS_EXPORTERS='csv': has unknown exporter 'csv'",
        ),
        (["crawl", "nosuchspider"], "no spider named 'nosuchspider'"),
    ]
    for args, message in cases:
        result = scrapy(*args, data_dir=tmp_path)
        assert result.returncode == 2, (args, result.stderr[-2000:])
        assert message in result.stderr, args
        assert "Traceback" not in result.stderr, args
    assert not (tmp_path / "finews.db").exists()


def test_only_the_selected_exporters_write(upstream, tmp_path):
    jekyll_only, sqlite_only = tmp_path / "j", tmp_path / "s"
    assert crawl("shanxiwanbao", jekyll_only, upstream, settings={"FINEWS_EXPORTERS": "jekyll"}).returncode == 0
    assert len(posts(jekyll_only)) == 7 and not (jekyll_only / "finews.db").exists()
    assert crawl("shanxiwanbao", sqlite_only, upstream, settings={"FINEWS_EXPORTERS": "sqlite"}).returncode == 0
    assert not (sqlite_only / "_posts").exists()
    assert len(rows(sqlite_only / "finews.db", "SELECT info_code FROM articles")) == 7
