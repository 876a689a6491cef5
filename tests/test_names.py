"""Newspaper names are input (``cleaning/names.py``): hostile names are normalized or
refused, slugs are bounded, the footer's Markdown cannot be broken, and a crawl of hostile
names drops them with the reason ``newspaper`` and leaves a site that builds."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finews_spider.cleaning.dates import BEIJING
from finews_spider.cleaning.names import (
    MAX_NAME_LENGTH,
    NameRefused,
    check_newspaper_name,
    markdown_text,
    normalize_newspaper_name,
)
from finews_spider.exporters.jekyll import format_post
from finews_spider.registry import MAX_SLUG_LENGTH, Registry, slugify
from tests.conftest import REFERENCE_POST, crawl, jekyll_build, posts, rows

ACCEPTED = [
    ("山西晚报", "山西晚报"),
    ("山西晚报\n", "山西晚报"),
    ("  山西晚报\r\n\t", "山西晚报"),
    ("\u3000山西晚报\u3000", "山西晚报"),  # full-width spaces
    ("山西\u3000\u3000晚报", "山西 晚报"),
    ("山西晚报&nbsp;", "山西晚报"),
    ("\u200b山西\u200d晚报\ufeff", "山西晚报"),  # zero-width space, joiner, BOM
    ("\u200f山西晚报\u202e", "山西晚报"),  # RTL mark, right-to-left override
    ("山西\x00晚报\x1b", "山西晚报"),  # control characters
    ("China  Daily (HK)", "China Daily (HK)"),
    ("《经济日报》·海外版", "《经济日报》·海外版"),
    ("21世纪经济报道", "21世纪经济报道"),
    ("Xi'an Evening News", "Xi'an Evening News"),
    ("報" * MAX_NAME_LENGTH, "報" * MAX_NAME_LENGTH),
    ("e\u0301日报", "\u00e9日报"),  # NFC
]

REFUSED = [
    ("<script>alert(1)</script>日报", "markup '<'"),
    ("&lt;b&gt;日报", "markup '<'"),
    ("<b>日报</b>", "markup '<'"),
    ("長" * 300, "300 characters long, more than 40"),
    ("報" * (MAX_NAME_LENGTH + 1), "more than 40"),
    ("../../etc/passwd", "path character '/'"),
    ("..\\windows", "path character '\\\\'"),
    ("..", "has no letter"),
    ("😀", "character '😀'"),
    ("日报😀", "character '😀'"),
    ("!!!", "character '!'"),
    ("——", "has no letter"),
    ("2021", "has no letter"),
    ("[返回](javascript:alert(1))", "character '['"),
    ("日报*粗*", "character '*'"),
    ("日报;", "character ';'"),
    ("", "nothing is left"),
    ("\u200b\u200f\u3000\n", "nothing is left"),
    (None, "not text"),
    (12, "not text"),
]


@pytest.mark.parametrize("raw, expected", ACCEPTED)
def test_names_are_normalized(raw, expected):
    assert check_newspaper_name(raw) == expected == normalize_newspaper_name(raw)


@pytest.mark.parametrize("raw, reason", REFUSED, ids=[repr(r)[:30] for r, _ in REFUSED])
def test_hostile_names_are_refused_with_a_reason(raw, reason):
    with pytest.raises(NameRefused) as caught:
        check_newspaper_name(raw)
    assert reason in str(caught.value)
    assert isinstance(caught.value, ValueError) and normalize_newspaper_name(raw) is None


@given(st.text(max_size=60))
def test_an_accepted_name_is_stable_and_needs_no_markdown_escaping(raw):
    name = normalize_newspaper_name(raw)
    if name is not None:
        assert check_newspaper_name(name) == name  # idempotent
        assert markdown_text(name) == name  # posts keep their bytes
        assert 0 < len(name) <= MAX_NAME_LENGTH and name == name.strip()


def test_markdown_text_escapes_what_would_be_syntax():
    assert markdown_text("[返回](javascript:x)") == "\\[返回\\](javascript:x)"
    assert markdown_text("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"
    assert markdown_text("a&lt;b AT&T") == "a&amp;lt;b AT&T"
    assert markdown_text("a\nb") == "a b"


def test_slugs_are_bounded():
    long_name = "長" * 300
    slug = slugify(long_name)
    assert len(slug) == MAX_SLUG_LENGTH and slug == slugify(long_name)
    assert slugify("長" * 299 + "短") != slug  # same beginning, different name
    registry = Registry.load()
    first = registry.paper_for(long_name).slug
    second = registry.paper_for("長" * 300 + "報").slug  # same 53-letter beginning, another hash
    assert first != second
    for s in (first, second):
        assert len(f"{s}.html".encode()) < 255 and len(s) <= MAX_SLUG_LENGTH + 7
    assert slugify("山西晚报") == "shanxiwanbao"  # short names unchanged


def test_the_reference_footer_is_unchanged_and_a_raw_hostile_name_is_escaped():
    article = {
        "newspaper": "山西晚报",
        "slug": "shanxiwanbao",
        "title": "t",
        "body_html": "<p>x</p>",
        "share_url": "http://s",
        "published_at": datetime(2021, 12, 23, 7, 25, 33, tzinfo=BEIJING),
    }
    reference_footer = REFERENCE_POST.read_text("utf-8").rsplit("\n", 1)[1]
    assert format_post(article, "//finews.withounder.com").rsplit("\n", 1)[1] == reference_footer
    hostile = format_post({**article, "newspaper": "a](javascript:alert(1))<script>"}, "//s")
    assert (
        hostile.rsplit("\n", 1)[1]
        == "[返回a\\](javascript:alert(1))&lt;script&gt;新闻](//s/category/shanxiwanbao.html)｜[返回首页](//s/)"
    )


HOSTILE = {
    0: "<script>alert(1)</script>日报",
    1: "山西晚报\n",
    2: "長" * 300,
    3: "../../etc/passwd",
    4: "😀",
    5: "\u200b山西晚报\u200f",
    6: "[返回](javascript:alert(1))",
}
REFUSED_INDEXES = {0, 2, 3, 4, 6}


def test_a_crawl_of_hostile_names_drops_them_and_the_site_builds(upstream, tmp_path):
    codes: list[str] = []
    for feed in upstream.feeds.values():
        for record in feed.get("record") or feed.get("nodeList"):
            code = record.get("infoCode") or record.get("infocode")
            if code not in codes:
                codes.append(code)
            index = codes.index(code)
            if index in HOSTILE:
                record["medianame" if "medianame" in record or "from" not in record else "from"] = HOSTILE[index]
    data = tmp_path / "data"
    result = crawl("finews", data, upstream)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"'finews/dropped/newspaper': {len(REFUSED_INDEXES)}" in result.stderr
    assert "holds markup '<'" in result.stderr
    archived = {name.split("-", 3)[3].removesuffix(".md") for name in posts(data)}
    assert archived == {c for i, c in enumerate(codes) if i not in REFUSED_INDEXES}
    for index in (1, 5):  # the trailing newline and the invisible marks: the same paper, not a second one
        row = rows(data / "finews.db", "SELECT newspaper, slug FROM articles WHERE info_code = ?", (codes[index],))
        assert row == [{"newspaper": "山西晚报", "slug": "shanxiwanbao"}]
    names = [r["name"] for r in rows(data / "finews.db", "SELECT name FROM newspapers WHERE article_count > 0")]
    assert all(normalize_newspaper_name(n) == n for n in names) and "山西晚报" in names
    assert sorted(p.name for p in (data / "category").iterdir()) == sorted(
        f"{r['slug']}.html" for r in rows(data / "finews.db", "SELECT DISTINCT slug FROM articles")
    )
    jekyll_build(data, tmp_path / "site")
