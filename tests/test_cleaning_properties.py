"""Property-based tests (hypothesis) of the cleaning invariants."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from finews_spider.cleaning import clean_body, html_to_text
from finews_spider.cleaning.body import ALLOWED_TAGS

BASE = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW1"
# Newspaper text: CJK, latin, digits, Chinese punctuation. No colons or brackets, so a
# random paragraph can never read as a credit (来源：X) and be moved out on purpose.
WORDS = st.text(
    alphabet=st.sampled_from(list("国寿地铁山西晚报发展市场保险金融高质量年月日abcXYZ0123456789，。、“”！？ ")),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())
HOSTILE = [
    "<script>alert('{t}')</script>",
    "<style>p{{color:red}}</style>",
    '<iframe src="http://x/">{t}</iframe>',
    "<!-- {t} -->",
    '<object data="x.swf">{t}</object>',
    "<p>&nbsp;</p>",
    "<p>　　</p>",
]
WRAPPERS = [
    "<p>{t}</p>",
    "<p>　　{t}</p>",
    "<p>&nbsp;&nbsp;{t}</p>",
    '<p style="color:red" onclick="x()">{t}</p>',
    "<div>{t}</div>",
    "<p><span>{t}</span></p>",
    '<p><font color="red">{t}</font></p>',
    "<p><strong>{t}</strong></p>",
    '<p><a href="javascript:alert(1)">{t}</a></p>',
    '<p><a href="/rel/{i}.html" onmouseover="x()">{t}</a></p>',
    "<h3>{t}</h3>",
    "<ul><li>{t}</li></ul>",
    "<blockquote>{t}</blockquote>",
    "<table><tr><td>{t}</td></tr></table>",
    '<p>{t}<!--EM_StockCode_Start--><a href="http://q/1.html">中国人寿</a><!--EM_StockCode_End--></p>',
]


@st.composite
def hostile_bodies(draw):
    """(html, the visible newspaper text in order)."""
    parts, visible = [], []
    for i in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(HOSTILE)).format(t=draw(WORDS)))
        text = draw(WORDS)
        wrapper = draw(st.sampled_from(WRAPPERS))
        parts.append(wrapper.format(t=text, i=i))
        visible.append(text + ("中国人寿" if "EM_StockCode" in wrapper else ""))
    return "\n ".join(parts), visible


def squeeze(text: str) -> str:
    return re.sub(r"[\s\u3000\u00a0]+", "", text)


@settings(max_examples=300, deadline=None)
@given(hostile_bodies())
def test_no_unsafe_markup_survives(case):
    body, _ = clean_body(case[0], BASE, "山西晚报")
    for tag in re.findall(r"</?([a-zA-Z0-9]+)", body):
        assert tag.lower() in ALLOWED_TAGS, tag
    for attr, value in re.findall(r'\s([a-z-]+)="([^"]*)"', body):
        assert attr in {"href", "src", "alt", "title", "class", "colspan", "rowspan"}, attr
        if attr in ("href", "src"):
            assert value.startswith(("http://", "https://")), value
    assert "<!--" not in body


@settings(max_examples=300, deadline=None)
@given(hostile_bodies())
def test_no_word_of_the_newspaper_is_lost(case):
    html, visible = case
    body, credits = clean_body(html, BASE, "山西晚报")
    expected = squeeze("".join(visible)) + squeeze(f"（文章来源：{credits.source}）")
    assert squeeze(html_to_text(body)) == expected


@settings(max_examples=300, deadline=None)
@given(hostile_bodies())
def test_cleaning_is_idempotent(case):
    once, credits = clean_body(case[0], BASE, "山西晚报")
    twice, again = clean_body(once, BASE, "山西晚报")
    assert twice == once and again.source == credits.source


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_cleaning_arbitrary_text_is_idempotent(text):
    once, _ = clean_body(text, BASE, "山西晚报")
    assert clean_body(once, BASE, "山西晚报")[0] == once


@settings(max_examples=300, deadline=None)
@given(
    st.lists(WORDS, min_size=1, max_size=8),
    st.sampled_from(["\n ", "\n", ""]),
    st.sampled_from(["山西晚报", "陕西日报", "新华社"]),
)
def test_clean_markup_passes_through_unchanged(paragraphs, separator, source):
    clean = (
        separator.join(f"<p>{p.strip()}</p>" for p in paragraphs) + f'<p class="em_media">（文章来源：{source}）</p>'
    )
    assert clean_body(clean, BASE, "山西晚报")[0] == clean
