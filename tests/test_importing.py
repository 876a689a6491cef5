"""Reading old posts (finews_spider/importing.py): every real shape of the old archive
(tests/fixtures/real/posts/, real files), the reference post back to its bytes, and hostile
variants of it."""

from datetime import datetime
from pathlib import Path

import pytest

from finews_spider.cleaning.dates import BEIJING
from finews_spider.exporters.jekyll import format_post
from finews_spider.importing import BROKEN, NOT_ARTICLE, Skip, parse_post, parse_post_date, registry_paper
from finews_spider.registry import Registry

FIXTURES = Path(__file__).parent / "fixtures"
REAL_POSTS = FIXTURES / "real" / "posts"
REFERENCE = FIXTURES / "reference" / "2021-12-23-NW202112232223130395.md"
NAME = REFERENCE.name
CODE = "NW202112232223130395"
SHARE = f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={CODE}"


def reference() -> bytes:
    return REFERENCE.read_bytes()


def article(data: bytes, name: str = NAME) -> dict:
    result = parse_post(data, name)
    assert isinstance(result, dict), result
    return result


def skip(data: bytes, name: str = NAME) -> Skip:
    result = parse_post(data, name)
    assert isinstance(result, Skip), result
    return result


def swap(data: bytes, old: str, new: str) -> bytes:
    assert old.encode() in data, old
    return data.replace(old.encode(), new.encode(), 1)


def test_every_real_post_file_is_here_byte_for_byte_when_shared_is_present():
    shared = Path(__file__).resolve().parents[2] / "shared" / "real" / "posts"
    if not shared.is_dir():
        pytest.skip("no shared/ beside this checkout")
    assert sorted(p.name for p in REAL_POSTS.iterdir()) == sorted(p.name for p in shared.iterdir())
    for path in shared.iterdir():
        assert (REAL_POSTS / path.name).read_bytes() == path.read_bytes(), path.name


REAL_SHAPES = {
    "2021-12-01-init.md": (NOT_ARTICLE, "site news post (category sitenews)"),
    "2021-12-08-202112082206672930.md": (NOT_ARTICLE, "东财滚动新闻 digest (category emnews)"),  # no footer
    "2021-12-08-202112082206703990.md": (NOT_ARTICLE, "东财滚动新闻 digest"),  # empty line before ---
    "2021-12-08-202112082206885265.md": (NOT_ARTICLE, "东财滚动新闻 digest"),  # relative two-line footer
    "2021-12-08-202112082206928461.md": (NOT_ARTICLE, "东财滚动新闻 digest"),
    "2021-12-08-202112082206945215.md": (NOT_ARTICLE, "东财滚动新闻 digest"),  # +0800, absolute footer
    "2021-12-08-202112082207012974.md": (NOT_ARTICLE, "东财滚动新闻 digest"),
    "2021-12-08-202112082207090389.md": (NOT_ARTICLE, "东财滚动新闻 digest"),
    "2021-12-08-202112082207168450.md": (NOT_ARTICLE, "东财滚动新闻 digest"),
}


def test_the_real_posts_are_the_ten_shapes():
    assert sorted(p.name for p in REAL_POSTS.iterdir()) == sorted([*REAL_SHAPES, NAME])


@pytest.mark.parametrize("name", sorted(REAL_SHAPES))
def test_real_digests_and_init_post_are_not_articles(name):
    kind, reason = REAL_SHAPES[name]
    result = skip((REAL_POSTS / name).read_bytes(), name)
    assert result.kind == kind and reason in result.reason and "not a newspaper article" in result.reason


def test_real_regional_article():
    data = (REAL_POSTS / NAME).read_bytes()
    post = article(data, NAME)
    assert post["info_code"] == CODE and post["share_url"] == SHARE
    assert post["title"] == "中国人寿山西省分公司：走前列做表率 推动山西高质量发展"
    assert post["published_at"] == datetime(2021, 12, 23, 7, 25, 33, tzinfo=BEIJING)
    assert post["published_at"].isoformat() == "2021-12-23T07:25:33+08:00"
    assert post["newspaper"] == "山西晚报" and post["legacy_slug"] == "shanxiwanbao"
    assert post["site_url"] == "//finews.withounder.com"
    # The body exactly as the file holds it, CRLF line ends of the old site included.
    start = data.index(b"---\n<p>") + 4
    end = data.index(b"\n\n<http://finews")
    assert post["body_html"].encode() == data[start:end]
    assert "\r\n" in post["body_html"] and post["body_html"].endswith("（文章来源：山西晚报）</p>")


@pytest.mark.parametrize("path", [REFERENCE, REAL_POSTS / NAME], ids=["reference", "real"])
def test_a_post_read_and_formatted_again_gives_the_same_bytes(path):
    data = path.read_bytes()
    post = article(data, path.name)
    post["slug"] = registry_paper(post["newspaper"], Registry.load()).slug
    assert format_post(post, post["site_url"]).encode("utf-8") == data


def test_formatted_posts_read_back_with_any_title():
    title = '他说"好"\\n \\ 了\t'
    post = {
        "info_code": CODE,
        "title": title,
        "published_at": datetime(2022, 1, 2, 3, 4, 5, tzinfo=BEIJING),
        "newspaper": "陕西日报",
        "slug": "shaanxiribao",
        "body_html": "<p>正文</p>\n\n<p>二</p>",
        "share_url": SHARE,
    }
    data = format_post(post, "//example.org").encode()
    back = article(data)
    assert back["title"] == title and back["body_html"] == post["body_html"]
    assert back["published_at"] == post["published_at"] and back["newspaper"] == "陕西日报"


def test_paper_is_found_by_name_never_by_old_slug():
    registry = Registry.load()
    data = reference()
    for name, old_slug, slug in [
        ("陕西日报", "shanxiribao", "shaanxiribao"),
        ("山西日报", "shanxiribao", "shanxiribao"),
        ("抚州日报", "fuzhouribao", "jiangxifuzhouribao"),
        ("厦门日报", "shamenribao", "xiamenribao"),
        ("漯河日报", "taheribao", "luoheribao"),
    ]:
        post = data.replace("山西晚报".encode(), name.encode()).replace(b"shanxiwanbao", old_slug.encode())
        result = article(post)
        assert result["newspaper"] == name and result["legacy_slug"] == old_slug
        assert registry_paper(result["newspaper"], registry).slug == slug
        assert registry_paper(result["newspaper"], registry) in registry.by_legacy_slug[old_slug]
    assert registry_paper("运城日报", registry).slug == "yunchengribao"  # unregistered: its pinyin


# --- hostile variants -------------------------------------------------------------------


def test_empty_and_blank_files_are_broken():
    assert skip(b"") == Skip(BROKEN, "empty file")
    assert skip(b" \n\r\n").reason == "file holds only white space"


def test_not_utf8_is_broken():
    assert skip(reference().replace("山西晚报".encode(), "山西晚报".encode("gb18030"), 1)).reason.startswith(
        "not UTF-8 (byte 0x"
    )


def test_no_front_matter_is_broken():
    data = reference()
    body = data[data.index(b"<p>") :]
    assert skip(body).reason == "no front matter (the file does not start with a --- line)"


def test_front_matter_not_closed_is_broken():
    assert (
        skip(swap(reference(), "tags: 山西晚报新闻\n---\n", "tags: 山西晚报新闻\n")).reason
        == "front matter is not closed (no second --- line)"
    )


def test_bad_yaml_is_broken_with_its_line():
    result = skip(swap(reference(), "tags: 山西晚报新闻", "tags: [山西晚报新闻"))
    assert result.kind == BROKEN and result.reason.startswith("front matter is not valid YAML:")
    assert "(line 7)" in result.reason


def test_front_matter_that_is_not_a_mapping_is_broken():
    data = b"---\n- a\n- b\n---\n<p>x</p>\n\n<" + SHARE.encode() + b">"
    assert skip(data).reason == "front matter is not a mapping of keys to values (list)"


def test_date_without_offset_is_beijing_time():
    post = article(swap(reference(), "07:25:33 +0800", "07:25:33"))
    assert post["published_at"].isoformat() == "2021-12-23T07:25:33+08:00"


def test_date_in_another_offset_is_converted():
    assert (
        article(swap(reference(), "07:25:33 +0800", "07:25:33 +0000"))["published_at"].isoformat()
        == "2021-12-23T15:25:33+08:00"
    )
    assert parse_post_date("2021-12-23 07:25:33+08:00") == datetime(2021, 12, 23, 7, 25, 33, tzinfo=BEIJING)


@pytest.mark.parametrize(
    "date", [" +0800", "2021-12-23", "23/12/2021 07:25", "2021-12-23 07:25:33 CST", "2021-13-45 07:25:33 +0800"]
)
def test_bad_dates_are_broken(date):
    result = skip(swap(reference(), "date: 2021-12-23 07:25:33 +0800", f"date: {date}"))
    assert result.kind == BROKEN and result.reason.startswith("date")


def test_the_old_archives_broken_post():
    """Shaped like the real one named -202205262391921712.md: empty title, a date with no
    day, an empty link."""
    data = (
        b'---\nlayout: post\ntitle: ""\ndate:  +0800\ncategories: shanxiribao\ntags: \xe9\x99\x95\xe8\xa5\xbf\xe6\x97\xa5\xe6\x8a\xa5\xe6\x96\xb0\xe9\x97\xbb\n---\n'
        b"<p>x</p>\n\n<>\n\n"
    )
    result = skip(data, "-202205262391921712.md")
    assert result == Skip(BROKEN, 'empty title (title: "")')
    fixed_title = data.replace(b'title: ""', b'title: "t"')
    assert skip(fixed_title, "-202205262391921712.md").reason == "date is not YYYY-MM-DD HH:MM:SS +0800: '+0800'"
    fixed_date = fixed_title.replace(b"date:  +0800", b"date: 2022-05-26 10:00:00 +0800")
    assert skip(fixed_date, "-202205262391921712.md").reason == "empty share link <>"
    fixed_link = fixed_date.replace(b"<>", b"<" + SHARE.encode() + b">")
    assert "is not YYYY-MM-DD-<infoCode>.md" in skip(fixed_link, "-202205262391921712.md").reason


def test_missing_footer_takes_the_name_from_tags():
    data = reference()
    post = article(data[: data.index(b"\n\n[")])
    assert post["newspaper"] == "山西晚报" and post["site_url"] is None
    assert post["body_html"] == article(data)["body_html"]
    assert article(data[: data.index(b"\n\n[")] + b"\n")["newspaper"] == "山西晚报"


def test_missing_tags_takes_the_name_from_the_footer():
    assert article(swap(reference(), "tags: 山西晚报新闻\n", ""))["newspaper"] == "山西晚报"


def test_no_name_anywhere_is_broken():
    data = swap(reference(), "tags: 山西晚报新闻\n", "")
    assert skip(data[: data.index(b"\n\n[")]).reason == "no newspaper name: no footer and tags is not '<name>新闻'"


def test_tags_and_footer_naming_different_papers_is_broken():
    assert (
        skip(swap(reference(), "tags: 山西晚报新闻", "tags: 陕西日报新闻")).reason
        == "tags name 陕西日报, the footer 山西晚报"
    )


def test_text_after_the_footer_is_broken():
    assert skip(reference() + b"\n<script>x</script>").reason.startswith("unexpected text after the share link")


def test_no_share_link_is_broken():
    data = reference()
    assert skip(data[: data.index(b"\n\n<http")]).reason.startswith("no share link")


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://finews.zning.xyz/html_News/NewsShare.html?infoCode=../../x", "infoCode is not letters and digits"),
        ("http://finews.zning.xyz/html_News/NewsShare.html", "no single infoCode"),
        ("ftp://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW1", "not an http(s) URL"),
    ],
)
def test_bad_share_links_are_broken(url, reason):
    result = skip(swap(reference(), SHARE, url))
    assert result.kind == BROKEN and result.reason.startswith("bad share link") and reason in result.reason


def test_file_name_and_share_link_disagreeing_is_broken():
    assert (
        skip(reference(), "2021-12-23-NW202112232223130999.md").reason
        == "file name says NW202112232223130999, share link says NW202112232223130395"
    )


def test_a_path_as_file_name_counts_only_its_last_part():
    assert article(reference(), f"old_post/{NAME}")["info_code"] == CODE


def test_digest_under_another_category_is_still_not_an_article():
    data = (
        (REAL_POSTS / "2021-12-08-202112082206945215.md")
        .read_bytes()
        .replace(b"categories: emnews", b"categories: other")
    )
    result = skip(data, "2021-12-08-202112082206945215.md")
    assert result.kind == NOT_ARTICLE and "eastmoney.com" in result.reason


def test_title_with_unescaped_quotes_is_read_as_written():
    post = article(swap(reference(), 'title: "中国人寿', 'title: "他说"好"的中国人寿'))
    assert post["title"].startswith('他说"好"的中国人寿')


def test_title_with_escaped_quotes_and_yaml_escapes():
    post = article(swap(reference(), 'title: "中国人寿', 'title: "\\"引号\\" \\u4e2d \\\\ 中国人寿'))
    assert post["title"].startswith('"引号" 中 \\ 中国人寿')


def test_empty_body_is_broken():
    data = reference()
    start, end = data.index(b"---\n<p>") + 4, data.index(b"\n\n<http")
    assert skip(data[:start] + b"  " + data[end:]).reason == "empty body"


def test_crlf_file_reads_like_the_lf_file_with_its_body_exact():
    data = reference()
    crlf = data.replace(b"\n", b"\r\n")
    post, plain = article(crlf), article(data)
    for key in ("info_code", "title", "published_at", "newspaper", "share_url", "legacy_slug", "site_url"):
        assert post[key] == plain[key], key
    assert post["body_html"] == plain["body_html"].replace("\n", "\r\n")


def test_byte_order_mark_is_ignored():
    assert article(b"\xef\xbb\xbf" + reference()) == article(reference())


def test_blank_lines_before_the_front_matter_are_read():
    assert article(b"\n \n" + reference()) == article(reference())


def test_a_title_that_is_digits_stays_text():
    assert (
        article(swap(reference(), 'title: "中国人寿山西省分公司：走前列做表率 推动山西高质量发展"', "title: 2021"))[
            "title"
        ]
        == "2021"
    )


def test_parse_post_date_refuses_what_it_cannot_read():
    from finews_spider.importing import PostError

    with pytest.raises(ValueError, match="date is not"):
        parse_post_date("2021-12-23")
    with pytest.raises(PostError, match="no date"):
        parse_post_date(None)
