"""Cleaning rules, on the hostile fixture corpus (tests/fixtures/bodies) and by case."""

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from finews_spider.cleaning import clean_body, clean_title, html_to_text, parse_published_at, split_credits
from finews_spider.exporters.jekyll import format_post
from tests.conftest import REFERENCE, REFERENCE_POST

BODIES = Path(__file__).parent / "fixtures" / "bodies"
BASE = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW1"
CASES = sorted(p for p in BODIES.glob("*.html") if not p.name.endswith(".expected.html"))


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_hostile_corpus_gives_expected_output(path):
    body, credits = clean_body(path.read_text("utf-8"), BASE, "山西晚报")
    assert body == path.with_name(path.stem + ".expected.html").read_text("utf-8")
    expected = json.loads((BODIES / "credits.json").read_text("utf-8"))[path.name]
    assert credits._asdict() == expected


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_hostile_corpus_output_is_safe_and_idempotent(path):
    body, _ = clean_body(path.read_text("utf-8"), BASE, "山西晚报")
    lowered = body.lower()
    for bad in (
        "<script",
        "<style",
        "<iframe",
        "<object",
        "<form",
        "<input",
        "javascript:",
        "vbscript:",
        "data:",
        " on",
        "style=",
        "<!--",
        "<span",
    ):
        assert bad not in lowered, bad
    assert clean_body(body, BASE, "山西晚报")[0] == body


def test_reference_body_only_loses_its_indentation():
    text = json.loads((REFERENCE / "upstream" / "text-NW202112232223130395.json").read_text("utf-8"))["text"]
    body, credits = clean_body(text, BASE, "山西晚报")
    assert body == text.replace("<p>　　", "<p>")
    assert credits.source == "山西晚报" and credits.editor is None
    assert clean_body(body, BASE, "山西晚报")[0] == body


def test_stock_widget_keeps_company_name_only():
    body, _ = clean_body(
        '<p>买入<!--EM_StockCode_Start--><a href="http://q/sh601628.html" data-code="1">中国人寿</a>'
        "<!--EM_StockCode_End-->股票</p>",
        BASE,
        "X",
    )
    assert body.startswith("<p>买入中国人寿股票</p>")


@pytest.mark.parametrize(
    "credit,source",
    [
        ('<p class="em_media">（文章来源：山西晚报）</p>', "山西晚报"),
        ("<p>（文章来源：陕西日报）</p>", "陕西日报"),
        ("<p>文章来源：大河报</p>", "大河报"),
        ("<p>来源：海南特区报</p>", "海南特区报"),
        ("<p>(来源:新华社)</p>", "新华社"),
        ("<p>（ 来源： 广州日报 ）</p>", "广州日报"),
        ("文章来源：南方日报", "南方日报"),
    ],
)
def test_attribution_forms_become_one_canonical_paragraph(credit, source):
    body, credits = clean_body("<p>正文。</p>\n" + credit, BASE, "山西晚报")
    assert credits.source == source
    assert body == f'<p>正文。</p><p class="em_media">（文章来源：{source}）</p>'


@pytest.mark.parametrize(
    "credit,editor",
    [
        ("<p>责任编辑：张明</p>", "张明"),
        ("<p>（编辑：李华）</p>", "李华"),
        ("<p>(文章来源:大河报)(责任编辑:王五)</p>", "王五"),
    ],
)
def test_editor_goes_to_its_field_and_out_of_the_body(credit, editor):
    body, credits = clean_body("<p>正文。</p>" + credit, BASE, "山西晚报")
    assert credits.editor == editor
    assert "编辑" not in body


def test_body_without_attribution_names_the_feed_newspaper():
    body, credits = clean_body("<p>正文。</p>", BASE, "海南特区报")
    assert credits.source == "海南特区报"
    assert body.endswith('<p class="em_media">（文章来源：海南特区报）</p>')


def test_attribution_inside_text_is_left_alone():
    body, credits = clean_body("<p>他说（来源：网络）很好</p>", BASE, "大河报")
    assert "（来源：网络）很好" in body and credits.source == "大河报"


def test_empty_body_after_cleaning_is_empty():
    assert (
        clean_body('<p>&nbsp;</p><script>x()</script><p class="em_media">（文章来源：山西晚报）</p>', BASE, "山西晚报")[
            0
        ]
        == ""
    )
    assert clean_body("", BASE, "山西晚报")[0] == ""


def test_html_to_text():
    assert html_to_text("<p>一</p>\n <p><strong>二</strong>&amp;三</p>") == "一\n二&三"


# -- dates ------------------------------------------------------------------------------
BEIJING_0840 = datetime(2021, 12, 24, 8, 40, tzinfo=timezone(timedelta(hours=8)))


@pytest.mark.parametrize(
    "text",
    [
        "2021年12月24日 08:40",
        "2021年12月24日08时40分",
        "2021/12/24 08:40",
        "2021-12-24 08:40:00",
        "2021-12-24T08:40:00+08:00",
        "2021-12-24T00:40:00Z",
        "2021-12-24T00:40:00+00:00",
        " 2021.12.24 08:40 ",
    ],
)
def test_dates_in_every_form_give_the_same_beijing_time(text):
    parsed = parse_published_at(text)
    assert parsed == BEIJING_0840
    assert parsed.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize("text", ["", None, "昨天", "12", "08:40", "2021-13-45 08:00", "2021年12月", "NaN"])
def test_unparseable_dates_are_refused_not_guessed(text):
    with pytest.raises(ValueError):
        parse_published_at(text)


# -- titles and front matter ------------------------------------------------------------
@pytest.mark.parametrize(
    "raw,clean",
    [
        (
            "中国人寿山西省分公司：走前列做表率 推动山西高质量发展",
            "中国人寿山西省分公司：走前列做表率 推动山西高质量发展",
        ),
        ('他说："涨了" \\ 跌了', '他说："涨了" \\ 跌了'),
        ("第一行\n第二行\r\n第三行", "第一行 第二行 第三行"),
        ("# 标题: 有冒号 - [x] {y} &amp; 'z'", "# 标题: 有冒号 - [x] {y} & 'z'"),
        ("\u2028分隔\u0085符\t制表", "分隔 符 制表"),
    ],
)
def test_titles_give_valid_front_matter_that_reads_back(raw, clean):
    title = clean_title(raw)
    assert title == clean
    article = {
        "title": title,
        "published_at": BEIJING_0840,
        "slug": "dahebao",
        "newspaper": "大河报",
        "body_html": "<p>x</p>",
        "share_url": BASE,
    }
    front = format_post(article, "//finews.withounder.com").split("---\n")[1]
    assert yaml.safe_load(front)["title"] == title


def test_reference_post_format_is_byte_identical():
    text = json.loads((REFERENCE / "upstream" / "text-NW202112232223130395.json").read_text("utf-8"))["text"]
    record = json.loads((REFERENCE / "upstream" / "feed-marketType-37.json").read_text("utf-8"))["record"][0]
    body, _ = clean_body(text, BASE, record["medianame"])
    article = {
        "title": clean_title(record["title"]),
        "published_at": parse_published_at(record["datetime"]),
        "slug": "shanxiwanbao",
        "newspaper": record["medianame"],
        "body_html": body,
        "share_url": "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202112232223130395",
    }
    assert format_post(article, "//finews.withounder.com").encode("utf-8") == REFERENCE_POST.read_bytes()


def test_bundled_reference_matches_shared_copy_when_present():
    shared = Path(__file__).resolve().parents[2] / "shared" / "reference" / REFERENCE_POST.name
    if not shared.exists():
        pytest.skip("no shared/ beside this checkout")
    assert shared.read_bytes() == REFERENCE_POST.read_bytes()


def test_split_credits_prefers_em_media():
    _, credits = split_credits('<p>来源：新华社</p><p class="em_media">（文章来源：山西晚报）</p>')
    assert credits.source == "山西晚报"


@pytest.mark.parametrize(
    "value",
    ["9999-12-31 23:00:00", "9999-12-31T23:00:00-10:00", "0001-01-01 00:00:00", "1989-12-31 23:59", "2099-01-01"],
)
def test_a_date_outside_the_sane_range_is_refused(value):
    """Before 1990 or more than a day ahead: a broken record, refused (dropped/date), never
    an OverflowError that would fail every run for ever."""
    with pytest.raises(ValueError, match="outside|out of range"):
        parse_published_at(value)


def test_the_sane_range_is_measured_from_now():
    now = datetime(2021, 12, 24, tzinfo=UTC)
    assert parse_published_at("2021-12-24 23:00", now=now).isoformat() == "2021-12-24T23:00:00+08:00"
    with pytest.raises(ValueError, match="outside"):
        parse_published_at("2021-12-26 12:00", now=now)
    assert parse_published_at("1990-01-01 00:00").year == 1990
