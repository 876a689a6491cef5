"""Snippets (finews_spider.search.match_spans and snippet): the excerpt around the
matches, marked exactly where the index matched."""

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from finews_spider.search import FTS_TOKENIZE, fts_query, index_text, match_spans, snippet

CJK = list("国寿地铁山西晚报发展市场保险高质量人中")
CHARS = st.sampled_from(CJK + list("ab1 ，。AB"))
TEXT = st.text(alphabet=CHARS, min_size=0, max_size=60)
QUERY = st.text(alphabet=st.sampled_from(CJK + list('ab1 AB"')), min_size=1, max_size=8)


def fts_matches(text: str, query: str) -> bool:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(t, content='', {FTS_TOKENIZE})")
    conn.execute("INSERT INTO f (rowid, t) VALUES (1, ?)", (index_text(text),))
    return bool(conn.execute("SELECT rowid FROM f WHERE f MATCH ?", (fts_query(query),)).fetchall())


def test_spans_of_words_of_one_to_five_characters():
    text = "2021年是“十四五”规划的开局之年，乡村振兴。党建引领，国寿姓党"
    assert [text[s:e] for s, e in match_spans(text, "党")] == ["党", "党"]
    assert [text[s:e] for s, e in match_spans(text, "党建")] == ["党建"]
    assert [text[s:e] for s, e in match_spans(text, "十四五")] == ["十四五"]
    assert [text[s:e] for s, e in match_spans(text, "乡村振兴")] == ["乡村振兴"]
    assert [text[s:e] for s, e in match_spans(text, "规划的开局")] == ["规划的开局"]
    assert match_spans(text, "四五规") == []  # the quote ends the run: not a substring of one
    assert [text[s:e] for s, e in match_spans(text, "国寿 2021")] == ["2021", "国寿"]


def test_spans_mixed_words_follow_the_index():
    text = "中国人寿AA级债券，Bank of China"
    assert [text[s:e] for s, e in match_spans(text, "aa级")] == ["AA级"]
    assert [text[s:e] for s, e in match_spans(text, "人寿AA")] == ["人寿AA"]
    assert [text[s:e] for s, e in match_spans(text, '"bank of"')] == ["Bank of"]
    assert match_spans(text, "ban") == []  # words are whole words, as in the index


def test_overlapping_matches_are_merged():
    assert match_spans("高质量发展", "高质量 质量发展") == [(0, 5)]


def test_snippet_marks_and_escapes():
    text = "前言<b>。" + "无关的内容。" * 20 + "推动十四五规划&落实。" + "后文。" * 20
    out = snippet(text, "十四五", context=5)
    assert out == "…内容。推动<mark>十四五</mark>规划&amp;落实…"
    assert "<b>" not in snippet(text, "前言", context=5) and "&lt;b&gt;" in snippet(text, "前言", context=5)


def test_snippet_without_match_is_the_start_of_the_text():
    assert snippet("国寿地铁" * 30, "不存在", context=5) == "国寿地铁国寿地铁国寿…"
    assert snippet("短文。", "") == "短文。"


def test_snippet_fragments_and_plain_marks():
    text = "甲" * 100 + "党建" + "乙" * 100 + "党建" + "丙" * 100 + "党建" + "丁" * 100
    out = snippet(text, "党建", context=3, fragments=2, mark=("[", "]"), escape=str)
    assert out == "…甲甲甲[党建]乙乙乙…乙乙乙[党建]丙丙丙…"


def test_snippet_is_one_line():
    assert "\n" not in snippet("第一段十四五。\n\n第二段。", "十四五")


@settings(max_examples=400, deadline=None)
@given(TEXT, QUERY)
def test_spans_exist_exactly_when_the_index_matches_a_single_term(text, query):
    """For a one-term query, a span is found if and only if FTS5 matches the row."""
    terms = query.split()
    if len(terms) != 1 or '"' in query:
        query = (terms or ["国"])[0].replace('"', "") or "国"
    assert bool(match_spans(text, query)) == fts_matches(text, query)


@settings(max_examples=200, deadline=None)
@given(TEXT, QUERY)
def test_marked_text_is_the_text(text, query):
    """Removing the marks gives back a piece (or pieces) of the text, nothing added."""
    out = snippet(text, query, context=1000, fragments=1000, mark=("\x01", "\x02"), escape=str, ellipsis="\x03")
    plain = out.replace("\x01", "").replace("\x02", "")
    assert plain.replace("\x03", "") in " ".join(text.split()) or "\x03" in plain
    for s, e in match_spans(" ".join(text.split()), query):
        assert "\x01" + " ".join(text.split())[s:e] + "\x02" in out
