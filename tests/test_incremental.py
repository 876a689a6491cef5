"""Scheduled runs: only new or changed articles are fetched; posts rebuild offline."""

import pytest

from tests.conftest import crawl, posts, rows, scrapy

pytestmark = pytest.mark.slow  # every test here starts processes (docs/testing.md)


def test_second_run_over_unchanged_feed_sends_only_feed_requests(upstream, tmp_path):
    assert crawl("finews", tmp_path, upstream).returncode == 0
    upstream.requests.clear()
    result = crawl("finews", tmp_path, upstream)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(upstream.requests) == ["feed:37", "feed:38", "feed:39"]
    assert "status=ok new=0 changed=0 unchanged=0 skipped=34" in result.stderr
    [last] = rows(tmp_path / "finews.db", "SELECT * FROM crawls ORDER BY id DESC LIMIT 1")
    assert (last["status"], last["articles_new"], last["articles_skipped"], last["requests"]) == ("ok", 0, 34, 3)


def test_changed_title_is_fetched_again_and_kept_as_revision(upstream, tmp_path):
    assert crawl("shanxiwanbao", tmp_path, upstream).returncode == 0
    record = upstream.feeds["37"]["record"][0]
    old_title, record["title"] = record["title"], record["title"] + "（更新）"
    upstream.requests.clear()
    result = crawl("shanxiwanbao", tmp_path, upstream)
    assert result.returncode == 0, result.stderr[-3000:]
    assert upstream.count("text:") == 1
    assert "changed=1" in result.stderr
    [rev] = rows(tmp_path / "finews.db", "SELECT * FROM revisions")
    assert rev["info_code"] == record["infoCode"] and rev["title"] == old_title
    [row] = rows(tmp_path / "finews.db", "SELECT title FROM articles WHERE info_code=?", (record["infoCode"],))
    assert row["title"] == record["title"]


def test_changed_body_with_same_listing_found_by_refresh(upstream, tmp_path):
    assert crawl("shanxiwanbao", tmp_path, upstream).returncode == 0
    code = upstream.feeds["37"]["record"][0]["infoCode"]
    upstream.texts[code] = {"text": "<p>　　更正后的正文。</p>"}
    assert crawl("shanxiwanbao", tmp_path, upstream).returncode == 0  # listing unchanged: not fetched
    assert rows(tmp_path / "finews.db", "SELECT count(*) n FROM revisions") == [{"n": 0}]
    upstream.requests.clear()
    result = crawl("shanxiwanbao", tmp_path, upstream, "-a", "refresh=1")
    assert result.returncode == 0
    assert upstream.count("text:") == 7
    assert "new=0 changed=1 unchanged=6" in result.stderr
    [row] = rows(tmp_path / "finews.db", "SELECT body_html FROM articles WHERE info_code=?", (code,))
    assert row["body_html"] == '<p>更正后的正文。</p><p class="em_media">（文章来源：山西晚报）</p>'


def test_recheck_hours_refetches_young_articles(upstream, tmp_path):
    assert crawl("shanxiwanbao", tmp_path, upstream).returncode == 0
    upstream.requests.clear()
    # The sample is from 2021: a window of 100 years covers all of it, one of 1 hour none.
    assert crawl("shanxiwanbao", tmp_path, upstream, settings={"FINEWS_RECHECK_HOURS": "1"}).returncode == 0
    assert upstream.count("text:") == 0
    assert (
        crawl("shanxiwanbao", tmp_path, upstream, settings={"FINEWS_RECHECK_HOURS": str(24 * 365 * 100)}).returncode
        == 0
    )
    assert upstream.count("text:") == 7


def test_rebuild_posts_from_database_without_network(upstream, tmp_path):
    assert crawl("finews", tmp_path, upstream).returncode == 0
    before = posts(tmp_path)
    upstream.stop()
    for post in (tmp_path / "_posts").iterdir():
        post.unlink()
    result = scrapy("rebuild", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "posts written: 34" in result.stdout
    assert posts(tmp_path) == before


def test_changed_date_moves_the_post(upstream, tmp_path):
    assert crawl("shanxiwanbao", tmp_path, upstream).returncode == 0
    record = upstream.feeds["37"]["record"][0]
    old_name = f"{record['datetime'][:10]}-{record['infoCode']}.md"
    assert old_name in posts(tmp_path)
    record["datetime"] = "2022-01-05 09:00:00"
    result = crawl("shanxiwanbao", tmp_path, upstream)
    assert result.returncode == 0 and "changed=0" in result.stderr  # same title and body: no revision
    names = [n for n in posts(tmp_path) if record["infoCode"] in n]
    assert names == [f"2022-01-05-{record['infoCode']}.md"]
    [row] = rows(tmp_path / "finews.db", "SELECT published_at FROM articles WHERE info_code=?", (record["infoCode"],))
    assert row["published_at"] == "2022-01-05T09:00:00+08:00"
