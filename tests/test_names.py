"""Newspaper names are input (``cleaning/names.py``): hostile names are normalized and
kept (never a reason to drop an article), slugs are bounded, the footer's Markdown cannot
be broken, and a crawl of hostile names archives every article and leaves a Jekyll site,
a reading site and feeds where no name can form markup."""

from __future__ import annotations

import re
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
from tests.conftest import REFERENCE_POST, crawl, executable_markup, jekyll_build, posts, rows

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

KEPT = [  # (raw, normalized): no name is refused for what it holds
    ("<script>alert(1)</script>日报", "<script>alert(1)</script>日报"),
    ("&lt;b&gt;日报", "<b>日报"),
    ("長" * 300, "長" * 300),
    ("報" * (MAX_NAME_LENGTH + 5), "報" * (MAX_NAME_LENGTH - 1) + "…"),  # bounded
    ("../../etc/passwd", "../../etc/passwd"),
    ("..", ".."),
    ("😀", "😀"),
    ("日报😀", "日报😀"),
    ("2021", "2021"),
    ("[返回](javascript:alert(1))", "[返回](javascript:alert(1))"),
    ("日报*粗*", "日报*粗*"),
]

REFUSED = [  # no name at all
    ("", "nothing is left"),
    ("\u200b\u200f\u3000\n", "nothing is left"),
    (None, "not text"),
    (12, "not text"),
]


@pytest.mark.parametrize("raw, expected", ACCEPTED)
def test_names_are_normalized(raw, expected):
    assert check_newspaper_name(raw) == expected == normalize_newspaper_name(raw)


@pytest.mark.parametrize("raw, expected", KEPT, ids=[repr(r)[:30] for r, _ in KEPT])
def test_unusual_names_are_kept_as_given(raw, expected):
    assert check_newspaper_name(raw) == expected == normalize_newspaper_name(raw)


@pytest.mark.parametrize("raw, reason", REFUSED, ids=[repr(r)[:30] for r, _ in REFUSED])
def test_what_is_no_name_at_all_is_refused_with_a_reason(raw, reason):
    with pytest.raises(NameRefused) as caught:
        check_newspaper_name(raw)
    assert reason in str(caught.value)
    assert isinstance(caught.value, ValueError) and normalize_newspaper_name(raw) is None


@given(st.text(max_size=60))
def test_a_normalized_name_is_stable_and_bounded(raw):
    name = normalize_newspaper_name(raw)
    if name is not None:
        assert check_newspaper_name(name) == name  # idempotent
        assert 0 < len(name) <= MAX_NAME_LENGTH and name == name.strip()


@given(st.text(alphabet=st.characters(categories=["Lo", "Nd", "Zs"]), max_size=30))
def test_an_ordinary_name_needs_no_markdown_escaping(raw):
    name = normalize_newspaper_name(raw)
    if name is not None:
        assert markdown_text(name) == name  # the posts of ordinary papers keep their bytes


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


def test_a_crawl_of_hostile_names_keeps_every_article_and_escapes_the_names_everywhere(upstream, tmp_path):
    """Markup, a path, an emoji, 300 characters, Markdown link syntax: every article is
    archived under a bounded slug, and neither the Jekyll build, the reading site nor the
    feeds carry a name as markup."""
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
    result = crawl("finews", data, upstream, settings={"FINEWS_SITE_DIR": str(tmp_path / "reading")})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "finews/dropped/newspaper" not in result.stderr
    archived = {name.split("-", 3)[3].removesuffix(".md") for name in posts(data)}
    assert archived == set(codes)  # every article, whatever its paper's name
    for index in (1, 5):  # the trailing newline and the invisible marks: the same paper, not a second one
        row = rows(data / "finews.db", "SELECT newspaper, slug FROM articles WHERE info_code = ?", (codes[index],))
        assert row == [{"newspaper": "山西晚报", "slug": "shanxiwanbao"}]
    stored = {r["newspaper"] for r in rows(data / "finews.db", "SELECT newspaper FROM articles")}
    assert {"<script>alert(1)</script>日报", "../../etc/passwd", "😀", "長" * 300} <= stored  # as given
    slugs = [r["slug"] for r in rows(data / "finews.db", "SELECT DISTINCT slug FROM articles")]
    assert all(re.fullmatch(r"[a-z0-9-]{1,60}", s) for s in slugs), slugs
    assert sorted(p.name for p in (data / "category").iterdir()) == sorted(f"{s}.html" for s in slugs)
    jekyll_build(data, tmp_path / "site")
    built = [*(tmp_path / "site").rglob("*.html")] if (tmp_path / "site").is_dir() else []
    for page in [*(tmp_path / "reading").rglob("*.html"), *(data / "feed").glob("*.xml"), *built]:
        assert not executable_markup(page.read_text("utf-8")), page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;日报" in (tmp_path / "reading/newspapers.html").read_text("utf-8")
