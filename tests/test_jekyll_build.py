"""Debian's ``jekyll build`` over a crawled archive renders posts and category pages."""

import re
import subprocess

import pytest

from tests.conftest import require_tool

pytestmark = pytest.mark.slow  # every test here starts processes (docs/testing.md)


@pytest.fixture(scope="module")
def site(sample_archive, tmp_path_factory):
    jekyll = require_tool("jekyll")
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [jekyll, "build", "--source", str(sample_archive), "--destination", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_post_page_renders(site):
    page = (site / "shanxiwanbao" / "2021" / "12" / "23" / "NW202112232223130395.html").read_text("utf-8")
    assert "<title>中国人寿山西省分公司：走前列做表率 推动山西高质量发展 - finews archive</title>" in page
    assert '<time datetime="2021-12-23T07:25:33+08:00">2021-12-23 07:25</time>' in page
    assert '<span class="post-tag">山西晚报新闻</span>' in page
    assert "<p>2021年是“十四五”规划的开局之年" in page
    assert '<p class="em_media">（文章来源：山西晚报）</p>' in page
    assert '<a href="//finews.withounder.com/category/shanxiwanbao.html">返回山西晚报新闻</a>' in page
    assert "<script" not in page


def test_category_page_lists_the_newspapers_posts_newest_first(site):
    page = (site / "category" / "shanxiwanbao.html").read_text("utf-8")
    assert '<h1 class="category-title">山西晚报新闻</h1>' in page
    dates = re.findall(r'<li><time datetime="([^"]+)"', page)
    assert len(dates) == 7 and dates == sorted(dates, reverse=True)
    assert "/shanxiwanbao/2021/12/23/NW202112232223130395.html" in page
    assert "海南" not in page


def test_database_and_warc_are_not_published(site):
    assert not (site / "finews.db").exists() and not (site / "warc").exists()


def test_feeds_are_kept_and_linked_from_category_pages(site, sample_archive):
    assert (site / "feed" / "all.xml").read_bytes() == (sample_archive / "feed" / "all.xml").read_bytes()
    assert (site / "feed" / "shanxiwanbao.xml").is_file()
    page = (site / "category" / "shanxiwanbao.html").read_text("utf-8")
    assert '<a href="/feed/shanxiwanbao.xml" type="application/atom+xml">' in page
    assert (
        '<link rel="alternate" type="application/atom+xml" title="山西晚报新闻" href="/feed/shanxiwanbao.xml">' in page
    )
