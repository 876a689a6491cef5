"""Mentions: the securities and boards the service tags in bodies (cleaning/mentions.py),
on the real markup of issue 12, on hostile variants, by property, and through a real crawl."""

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finews_spider.cleaning import Mention, clean_body, drop_kline_pictures, exchange_of, find_mentions, html_to_text
from finews_spider.cleaning import mentions as mentions_module
from tests.conftest import crawl, rows

BODIES = Path(__file__).parent / "fixtures" / "bodies"
BASE = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW1"
CASES = sorted(p for p in BODIES.glob("*.html") if not p.name.endswith(".expected.html"))
REAL = BODIES / "mentions-real.html"
KLINE_TRACES = ("EM_StockImg", "EmImageRemark", "webquoteklinepic", "GetPic.aspx", "K图")


def stock(market, code, name, span="stock", href=True):
    link = f' href="http://quote.eastmoney.com/unify/r/{market}.{code}" class="keytip"' if href else ""
    return (
        f'<span id="{span}_{market}.{code}"><a{link} data-code="{market},{code}">{name}</a></span>'
        f'<span id="{"bk" if span == "bk" else ""}quote_{market}.{code}"></span>'
    )


def kline(code, market, end=True):
    return (
        '<!-- EM_StockImg_Start --><p style="text-align:center;">'
        f'<a href="http://quote.eastmoney.com/unify/r/{market}.{code}" data-code="{code}|{market}|7" class="EmImageRemark">'
        f'<img src="https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid={market}.{code}&imageType=k" alt="K图 {code}_0">'
        "</a></p>" + ("<!-- EM_StockImg_End -->" if end else "")
    )


def keys(mentions):
    return [(m.kind, m.market, m.code, m.name) for m in mentions]


# -- the real markup ------------------------------------------------------------------------
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_fixture_corpus_gives_expected_mentions(path):
    expected = json.loads((BODIES / "mentions.json").read_text("utf-8")).get(path.name, [])
    assert [m._asdict() for m in clean_body(path.read_text("utf-8"), BASE, "山西晚报").mentions] == expected


def test_real_markup_mentions_its_securities_but_not_the_attribution():
    cleaned = clean_body(REAL.read_text("utf-8"), BASE, "山西晚报")
    assert keys(cleaned.mentions) == [
        ("stock", "106", "NIO", "蔚来"),
        ("board", "90", "BK0493", "新能源"),
        ("stock", "1", "600160", "巨化股份"),
        ("stock", "0", "300343", "联创股份"),
    ]
    assert [m.exchange for m in cleaned.mentions] == ["NYSE", None, "SSE", "SZSE"]
    assert "BK0473" not in {m.code for m in cleaned.mentions}  # the 证券 of 上海证券报
    assert cleaned.credits.source == "上海证券报"
    assert cleaned.body.count("em_media") == 1 and cleaned.body.endswith(
        '<p class="em_media">（文章来源：上海证券报）</p>'
    )
    for trace in KLINE_TRACES:
        assert trace not in cleaned.body
    for name in ("新能源", "蔚来", "巨化股份", "联创股份"):
        assert name in html_to_text(cleaned.body)


def test_clean_body_still_unpacks_as_body_and_credits():
    cleaned = clean_body(REAL.read_text("utf-8"), BASE, "山西晚报")
    body, credits = cleaned
    assert (body, credits) == (cleaned.body, cleaned.credits)
    assert isinstance(cleaned.mentions[0], Mention)
    assert clean_body("<p>正文。</p>", BASE, "X").mentions == ()


# -- hostile variants ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "markup",
    [
        '<span id="stock_1.600160"><a href="http://quote.eastmoney.com/unify/r/1.600160" class="keytip">巨化股份</a></span>',
        '<span id="stock_1.600160"><a data-code="">巨化股份</a></span>',
        '<span id="stock_1.600160"><a data-code>巨化股份</a></span>',
        '<a data-code="1,">巨化股份</a>',
        '<a data-code=",600160">巨化股份</a>',
        '<a data-code="600160">巨化股份</a>',
        '<a data-code="601628,1">巨化股份</a>',  # reversed: no market has six digits
        '<a data-code="1,600160,2">巨化股份</a>',
        '<a data-code="1,600160;DROP TABLE">巨化股份</a>',
        '<a data-code="1,60 0160">巨化股份</a>',
        '<a data-code="1,600160&quot; onclick=&quot;x()">巨化股份</a>',
        '<a data-code="1,<b>600160</b>">巨化股份</a>',
        "<a data-code='1,600160\"'>巨化股份</a>",
        '<a data-code="1,../../etc">巨化股份</a>',
        '<a data-code="1,.600160">巨化股份</a>',
        '<a data-code="1,６００１６０">巨化股份</a>',  # full-width digits
        '<a data-code="１,600160">巨化股份</a>',
        '<a data-code="1,' + "A" * 17 + '">巨化股份</a>',
        '<a data-code="1234,600160">巨化股份</a>',
        '<a data-code="|1|7" class="EmImageRemark">巨化股份</a>',
        '<a data-code="600160|x|7" class="EmImageRemark">巨化股份</a>',
        '<a data-code="600160||7" class="EmImageRemark">巨化股份</a>',
    ],
)
def test_a_tag_without_a_good_code_is_no_mention_and_its_text_stays(markup):
    cleaned = clean_body(f"<p>浙江{markup}公告。</p>", BASE, "X")
    assert cleaned.mentions == ()
    assert "巨化股份" in html_to_text(cleaned.body)


@pytest.mark.parametrize(
    "markup,expected",
    [
        ("<a data-code='1,600160'>巨化股份</a>", [("stock", "1", "600160", "巨化股份")]),
        ("<a data-code=1,600160>巨化股份</a>", [("stock", "1", "600160", "巨化股份")]),
        ('<a data-code=" 1 , 600160 ">巨化股份</a>', [("stock", "1", "600160", "巨化股份")]),
        ('<a data-code="01,600160">巨化股份</a>', [("stock", "1", "600160", "巨化股份")]),
        ('<a title="a > b" data-code="1,600160">巨化股份</a>', [("stock", "1", "600160", "巨化股份")]),
        ('<a data-code="1,600160" data-code="0,000001">巨化股份</a>', [("stock", "1", "600160", "巨化股份")]),
        ('<a data-code="106,BRK_A">伯克希尔</a>', [("stock", "106", "BRK_A", "伯克希尔")]),
        ('<a data-code="106,BRK.B">伯克希尔</a>', [("stock", "106", "BRK.B", "伯克希尔")]),
        # nested markup inside the tag: the name is its text
        (stock(1, 600160, "<b>巨化</b><span>股份</span>"), [("stock", "1", "600160", "巨化股份")]),
        (stock(1, 600160, " 巨化&nbsp;股份\n"), [("stock", "1", "600160", "巨化 股份")]),
        (stock(1, 600160, "巨化&amp;股份"), [("stock", "1", "600160", "巨化&股份")]),
        # a tag opened inside another: each is its own mention, as a browser would close the first
        (
            '<a data-code="1,600160">巨化<a data-code="0,300343">联创</a></a>',
            [("stock", "1", "600160", "巨化"), ("stock", "0", "300343", "联创")],
        ),
        # a tag inside a tag-less span, a span inside a span
        (
            '<span><span id="bk_90.BK0493"><a data-code="90,BK0493">新能源</a></span></span>',
            [("board", "90", "BK0493", "新能源")],
        ),
        # kind: from the span when there is one, else market 90 is a board
        ('<a data-code="90,BK0477">酿酒行业</a>', [("board", "90", "BK0477", "酿酒行业")]),
        (
            '<span id="bk_90.BK0477"><a data-code="90,BK0477">酿酒行业</a></span>',
            [("board", "90", "BK0477", "酿酒行业")],
        ),
        (
            '<span id="stock_90.BK0477"><a data-code="90,BK0477">酿酒行业</a></span>',
            [("stock", "90", "BK0477", "酿酒行业")],
        ),
        # no name: the code stands for it
        (stock(1, 600160, ""), [("stock", "1", "600160", "600160")]),
        (stock(1, 600160, "<img src='x.png'>"), [("stock", "1", "600160", "600160")]),
    ],
)
def test_tag_forms(markup, expected):
    assert keys(find_mentions(f"<p>浙江{markup}公告。</p>")) == expected


@pytest.mark.parametrize(
    "around",
    [
        '<span id="stock_1.600160"><a data-code="1,600160"><p>巨化股份今日公告，公司拟投资建设新项目。</p></a></span>',
        '<a data-code="1,600160"><div><p>巨化股份今日公告。</p><p>第二段。</p></div></a>',
        '<p><a data-code="1,600160">' + "巨化股份今日公告，公司拟投资建设新项目，预计年产值可观，" * 3 + "</a></p>",
    ],
)
def test_a_tag_around_a_whole_paragraph_is_a_mention_named_by_its_code_and_keeps_the_text(around):
    cleaned = clean_body(around, BASE, "X")
    assert keys(cleaned.mentions) == [("stock", "1", "600160", "600160")]
    assert "巨化股份今日公告" in html_to_text(cleaned.body)


def test_a_tag_around_a_paragraph_takes_the_name_of_another_tag_of_the_code():
    body = '<a data-code="1,600160"><p>巨化股份今日公告。</p></a><p>另据' + stock(1, 600160, "巨化股份") + "。</p>"
    assert keys(find_mentions(body)) == [("stock", "1", "600160", "巨化股份")]


def test_duplicates_and_case_give_one_mention_per_kind_market_code_in_order_of_first_appearance():
    body = (
        "<p>" + stock(0, 300343, "联创股份") + stock(106, "nio", "蔚来") + "与" + stock(0, 300343, "联创") + "</p>"
        '<P><SPAN ID="STOCK_106.NIO"><A HREF="http://quote.eastmoney.com/unify/r/106.NIO" DATA-CODE="106,NIO">NIO</A></SPAN>'
        '和<span id="bk_90.bk0493"><a data-code="90,bk0493">新能源</a></span>'
        '<span id="bk_90.BK0493"><a data-code="90,BK0493">新能源车</a></span></P>'
        + "<p>"
        + stock(1, 300343, "同码异市")
        + "</p>"
    )
    assert keys(find_mentions(body)) == [
        ("stock", "0", "300343", "联创股份"),
        ("stock", "106", "NIO", "蔚来"),
        ("board", "90", "BK0493", "新能源"),
        ("stock", "1", "300343", "同码异市"),
    ]


def test_kline_chart_leaves_the_body_and_names_its_security_from_the_body():
    cleaned = clean_body(kline("NIO", 106) + "<p>霍尼韦尔宣布为" + stock(106, "NIO", "蔚来") + "供货。</p>", BASE, "X")
    assert keys(cleaned.mentions) == [("stock", "106", "NIO", "蔚来")]
    assert (
        cleaned.body
        == '<p>霍尼韦尔宣布为<a href="http://quote.eastmoney.com/unify/r/106.NIO">蔚来</a>供货。</p><p class="em_media">（文章来源：X）</p>'
    )


def test_kline_chart_without_a_tag_of_its_code_is_named_by_its_code():
    cleaned = clean_body(kline("00700", 116) + kline("BABA", 106) + "<p>正文。</p>", BASE, "X")
    assert keys(cleaned.mentions) == [("stock", "116", "00700", "00700"), ("stock", "106", "BABA", "BABA")]
    assert [m.exchange for m in cleaned.mentions] == ["HKEX", "NYSE"]
    assert cleaned.body == '<p>正文。</p><p class="em_media">（文章来源：X）</p>'


def test_kline_chart_without_its_end_comment_goes_and_the_text_after_it_stays():
    cleaned = clean_body(kline("NIO", 106, end=False) + "<p>国内首款汽车来了！</p><p>第二段。</p>", BASE, "X")
    assert keys(cleaned.mentions) == [("stock", "106", "NIO", "NIO")]
    assert cleaned.body == '<p>国内首款汽车来了！</p><p>第二段。</p><p class="em_media">（文章来源：X）</p>'


def test_kline_block_holding_text_loses_the_chart_but_not_the_text():
    raw = (
        "<!-- EM_StockImg_Start --><p>导语文字。</p>"
        + kline("NIO", 106, end=False)[len("<!-- EM_StockImg_Start -->") :]
        + "<!-- EM_StockImg_End --><p>正文。</p>"
    )
    body = clean_body(raw, BASE, "X").body
    assert body == '<p>导语文字。</p><p>正文。</p><p class="em_media">（文章来源：X）</p>'


def test_kline_anchor_holding_text_keeps_the_text_without_the_picture():
    raw = (
        '<p><a data-code="NIO|106|7" class="EmImageRemark"><img src="https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=106.NIO">'
        "蔚来走势</a></p><p>正文。</p>"
    )
    assert drop_kline_pictures(raw) == "<p>蔚来走势</p><p>正文。</p>"


def test_kline_anchor_is_known_by_its_code_form_without_its_class():
    raw = '<p><a href="http://quote.eastmoney.com/unify/r/106.NIO" data-code="NIO|106|7"><img src="https://x/k.png"></a></p><p>正文。</p>'
    assert drop_kline_pictures(raw) == "<p></p><p>正文。</p>"
    assert keys(find_mentions(raw)) == [("stock", "106", "NIO", "NIO")]


def test_stray_kline_picture_goes():
    raw = '<p>正文。<img alt="x" src="https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=1.600160"></p>'
    assert drop_kline_pictures(raw) == "<p>正文。</p>"


@pytest.mark.parametrize(
    "credit,source,editor",
    [
        (
            '<p class="em_media">（文章来源：上海<span id="bk_90.BK0473"><a href="http://quote.eastmoney.com/unify/r/90.BK0473" '
            'class="keytip" data-code="90,BK0473">证券</a></span><span id="bkquote_90.BK0473"></span>报）</p>',
            "上海证券报",
            None,
        ),
        (
            '<p>（文章来源：<span id="stock_1.600837"><a data-code="1,600837">海通</a></span>证券报）</p>',
            "海通证券报",
            None,
        ),
        ('<p>文章来源：上海<a href="http://x/" data-code="90,BK0473">证券</a>报</p>', "上海证券报", None),
        ('<p>（责任编辑：<span id="stock_0.000002"><a data-code="0,000002">万科</a></span>）</p>', "X", "万科"),
        (
            '<p class="em_media">（文章来源：上海<SPAN ID="BK_90.BK0473"><A DATA-CODE="90,BK0473">证券</A></SPAN>报）'
            "（责任编辑：<b><a data-code='1,601398'>工行</a></b>）</p>",
            "上海证券报",
            "工行",
        ),
        ('文章来源：上海<span id="bk_90.BK0473"><a data-code="90,BK0473">证券</a></span>报', "上海证券报", None),
    ],
)
def test_tags_in_the_credits_are_no_mentions_and_the_credit_reads_whole(credit, source, editor):
    cleaned = clean_body("<p>正文提到" + stock(1, 600160, "巨化股份") + "。</p>" + credit, BASE, "X")
    assert keys(cleaned.mentions) == [("stock", "1", "600160", "巨化股份")]
    assert (cleaned.credits.source, cleaned.credits.editor) == (source, editor)
    assert (
        cleaned.body.endswith(f'<p class="em_media">（文章来源：{source}）</p>') and cleaned.body.count("em_media") == 1
    )


def test_a_credit_inside_body_text_is_body_text_and_its_tags_are_mentions():
    cleaned = clean_body("<p>他说（来源：上海" + stock(90, "BK0473", "证券", span="bk") + "报）很好</p>", BASE, "X")
    assert keys(cleaned.mentions) == [("board", "90", "BK0473", "证券")]


@pytest.mark.parametrize(
    "hidden",
    [
        '<!-- <a data-code="1,600160">巨化股份</a> -->',
        "<script>document.write('<a data-code=\"1,600160\">巨化股份</a>')</script>",
        '<style>/* <a data-code="1,600160">x</a> */</style>',
        '<textarea><a data-code="1,600160">巨化股份</a></textarea>',
        '<script>var a = 1; // <a data-code="1,600160">巨化股份</a>',  # never closed
    ],
)
def test_tags_in_markup_that_never_shows_are_no_mentions(hidden):
    assert find_mentions("<p>正文。</p>" + hidden) == ()


# -- exchanges -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "market,code,exchange",
    [
        ("0", "300343", "SZSE"),
        ("0", "000001", "SZSE"),
        ("0", "200002", "SZSE"),
        ("1", "600160", "SSE"),
        ("1", "688981", "SSE"),
        ("0", "830799", "BSE/NEEQ"),
        ("0", "430047", "BSE/NEEQ"),
        ("0", "920002", "BSE"),
        ("105", "AAPL", "NASDAQ"),
        ("106", "NIO", "NYSE"),
        ("107", "IMO", "NYSE American"),
        ("116", "00700", "HKEX"),
        ("128", "00700", "HKEX"),
        ("90", "BK0493", None),
        ("100", "NDX", None),
        ("999", "X", None),
    ],
)
def test_exchange_of(market, code, exchange):
    assert exchange_of(market, code) == exchange


def test_unknown_market_is_kept_as_it_is():
    [mention] = find_mentions('<a data-code="100,NDX">纳斯达克指数</a>')
    assert mention == Mention("stock", "100", "NDX", "纳斯达克指数", None)


def test_a_board_has_no_exchange_whatever_its_market():
    [mention] = find_mentions('<span id="bk_1.BK0001"><a data-code="1,BK0001">某板块</a></span>')
    assert mention.kind == "board" and mention.exchange is None


# -- properties ----------------------------------------------------------------------------------
WORDS = st.text(
    alphabet=st.sampled_from(list("国寿地铁山西晚报发展市场保险金融高质量年月日abcXYZ0123456789，。、“”！？ ")),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip())
GOOD = st.sampled_from(
    [("1", "600160"), ("0", "300343"), ("106", "NIO"), ("105", "aapl"), ("116", "00700"), ("0", "830799")]
)
BOARDS = st.sampled_from(["BK0493", "bk0473", "BK1036"])
BAD_CODES = st.sampled_from(
    [
        "",
        "1,",
        ",600160",
        "601628,1",
        "1,600160,2",
        "1,60 0160",
        "1,<b>1</b>",
        "600160|x|7",
        "1,600160&quot;x",
        "1,../x",
        "1234,600160",
    ]
)
NAMES = st.sampled_from(["巨化股份", "联创股份", "蔚来", "苹果", "腾讯控股", "新能源", "证券"])


@st.composite
def tagged_bodies(draw):
    """(html, visible text in order, expected mention keys in order, whether it has a chart)."""
    parts, visible, expected, chart = [], [], {}, False
    names: dict[str, str] = {}

    def add(kind, market, code, name):
        key = (kind, market, code.upper())
        if key not in expected:
            expected[key] = name
        elif expected[key] is None:
            expected[key] = name

    for _ in range(draw(st.integers(1, 8))):
        choice = draw(st.sampled_from(["text", "stock", "board", "bad", "chart"]))
        text = draw(WORDS)
        if choice == "stock":
            (market, code), name = draw(GOOD), draw(NAMES)
            add("stock", market, code, name)
            names.setdefault(code.upper(), name)
            parts.append(f"<p>{text}{stock(market, code, name, href=draw(st.booleans()))}</p>")
            visible.append(text + name)
        elif choice == "board":
            code, name = draw(BOARDS), draw(NAMES)
            add("board", "90", code, name)
            parts.append(f"<p>{text}{stock(90, code, name, span='bk')}</p>")
            visible.append(text + name)
        elif choice == "bad":
            name = draw(NAMES)
            parts.append(f'<p>{text}<span id="stock_x"><a data-code="{draw(BAD_CODES)}">{name}</a></span></p>')
            visible.append(text + name)
        elif choice == "chart":
            market, code = draw(GOOD)
            add("stock", market, code, None)
            chart = True
            parts.append(kline(code, market, end=draw(st.booleans())) + f"<p>{text}</p>")
            visible.append(text)
        else:
            parts.append(f"<p>{text}</p>")
            visible.append(text)
    # The attribution, split by a board tag: never a mention.
    parts.append('<p class="em_media">（文章来源：上海' + stock(90, "BK0473", "证券", span="bk") + "报）</p>")
    mentions = [
        (kind, market, code, name or names.get(code) or code) for (kind, market, code), name in expected.items()
    ]
    return "\n".join(parts), visible, mentions, chart


def squeeze(text: str) -> str:
    return re.sub(r"[\s\u3000\u00a0]+", "", text)


@settings(max_examples=300, deadline=None)
@given(tagged_bodies())
def test_mentions_are_the_good_tags_once_each_in_order(case):
    html, _, expected, _ = case
    assert keys(clean_body(html, BASE, "X").mentions) == expected


@settings(max_examples=300, deadline=None)
@given(tagged_bodies())
def test_tagged_text_stays_charts_go_and_the_attribution_reads_whole(case):
    html, visible, _, _ = case
    cleaned = clean_body(html, BASE, "X")
    assert cleaned.credits.source == "上海证券报"
    assert squeeze(html_to_text(cleaned.body)) == squeeze("".join(visible)) + "（文章来源：上海证券报）"
    for trace in KLINE_TRACES:
        assert trace not in cleaned.body
    assert clean_body(cleaned.body, BASE, "X").body == cleaned.body


FRAGMENTS = st.sampled_from(
    [
        "<a ",
        "<a data-code=",
        "data-code",
        '"',
        "'",
        ",",
        "|",
        ">",
        "</a>",
        '<span id="stock_',
        "<span id='bk_",
        "</span>",
        "<p>",
        "</p>",
        '<p class="em_media">',
        "（文章来源：",
        "）",
        "<!--",
        "-->",
        "<!-- EM_StockImg_Start -->",
        "<!-- EM_StockImg_End -->",
        "EmImageRemark",
        "<script>",
        "&quot;",
        "&amp;",
        "1",
        "90",
        "106",
        "600160",
        "NIO",
        "BK0493",
        "nio",
        "蔚来",
        " ",
        "\n",
        "<img src=x>",
        "<b>",
        "=",
        '<img src="https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=106.NIO">',
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(FRAGMENTS, max_size=40).map("".join))
def test_any_markup_gives_well_formed_mentions_whose_codes_are_in_it(raw):
    mentions = find_mentions(raw)
    assert len({(m.kind, m.market, m.code) for m in mentions}) == len(mentions)
    for m in mentions:
        assert m.kind in ("stock", "board")
        assert re.fullmatch(r"[0-9]{1,3}", m.market) and m.market in raw
        assert re.fullmatch(r"[A-Z0-9][A-Z0-9._-]{0,15}", m.code) and m.code in raw.upper()
        assert 0 < len(m.name) <= 40
        assert m.exchange == (exchange_of(m.market, m.code) if m.kind == "stock" else None)
    body = clean_body(raw, BASE, "X").body
    assert not re.search(r"<img[^>]*webquoteklinepic", body), body  # no chart, whatever the markup around it


def test_only_the_fold_letters_are_non_ascii_letters_a_case_insensitive_ascii_pattern_matches():
    # may_hold_tags lowers the body and looks for the words as they are; that is exact
    # only if no other character matches an ASCII letter case-insensitively.
    letters = re.compile("[a-z]", re.I)
    folding = {chr(c) for c in range(0x80, 0x110000) if letters.fullmatch(chr(c))}
    assert folding == set(mentions_module._QUICK_FOLDS)
    assert not {chr(c) for c in range(0x80, 0x110000) if chr(c) not in folding and re.search("[a-z]", chr(c).lower())}


QUICK_PARTS = st.sampled_from(
    [
        "data-code",
        "DATA-CODE",
        "em_StockImg",
        "EmImageRemark",
        "webquoteKLINEpic",
        "data",
        "-",
        "code",
        "em_",
        "stock",
        "img",
        "k",
        "s",
        "i",
        "\u212a",
        "\u017f",
        "\u0130",
        "\u0131",
        "蔚来",
        "<p>",
        " ",
    ]
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(QUICK_PARTS, max_size=12).map("".join) | st.text(max_size=40))
def test_the_quick_test_says_no_only_when_the_case_insensitive_search_finds_nothing(text):
    assert mentions_module.may_hold_tags(text) == (mentions_module._QUICK.search(text) is not None)


# -- through a real crawl ------------------------------------------------------------------------
def test_crawl_exports_the_mentions_of_an_article(upstream, tmp_path):
    code = next(c for c in upstream.texts if c != "NW202112232223130395")
    upstream.texts[code] = {**upstream.texts[code], "text": REAL.read_text("utf-8")}
    out = tmp_path / "articles.jsonl"
    result = crawl("finews", tmp_path, upstream, "-O", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    exported = {a["info_code"]: a for a in map(json.loads, out.read_text("utf-8").splitlines())}
    expected = json.loads((BODIES / "mentions.json").read_text("utf-8"))["mentions-real.html"]
    assert exported[code]["mentions"] == expected
    assert all(a["mentions"] == [] for c, a in exported.items() if c != code)
    [row] = rows(tmp_path / "finews.db", "SELECT source, body_html FROM articles WHERE info_code=?", (code,))
    assert row["source"] == "上海证券报" and "webquoteklinepic" not in row["body_html"]
