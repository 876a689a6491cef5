"""Property tests of the bigram search: a phrase is found exactly where it occurs."""

import sqlite3

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from finews_spider.search import FTS_TOKENIZE, fts_query, index_text

CHARS = st.sampled_from(list("国寿地铁山西晚报发展市场保险高质量人中") + list("ab1 ，。"))
TEXT = st.text(alphabet=CHARS, min_size=1, max_size=60)
CJK_WORD = st.text(alphabet=st.sampled_from(list("国寿地铁山西晚报发展市场保险高质量人中")), min_size=1, max_size=6)


def matches(text: str, query: str) -> bool:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(t, content='', {FTS_TOKENIZE})")
    conn.execute("INSERT INTO f (rowid, t) VALUES (1, ?)", (index_text(text),))
    return bool(conn.execute("SELECT rowid FROM f WHERE f MATCH ?", (fts_query(query),)).fetchall())


@settings(max_examples=300, deadline=None)
@given(TEXT, st.data())
def test_every_chinese_substring_is_found(text, data):
    runs = [r for r in "".join(c if "\u4e00" <= c <= "\u9fff" else " " for c in text).split() if r]
    assume(runs)
    run = data.draw(st.sampled_from(runs))
    start = data.draw(st.integers(0, len(run) - 1))
    end = data.draw(st.integers(start + 1, len(run)))
    assert matches(text, run[start:end])


@settings(max_examples=300, deadline=None)
@given(TEXT, CJK_WORD)
def test_a_chinese_word_of_two_or_more_characters_is_found_only_where_it_occurs(text, word):
    assume(len(word) >= 2)
    assert matches(text, word) == (word in text)


ANY_TEXT = st.text(
    alphabet=st.sampled_from(list("国寿地铁山西晚报发展市场保险高质量人中𠀀豈") + list("abAB1 ，。_-é\n")), max_size=80
)


@settings(max_examples=500, deadline=None)
@given(ANY_TEXT)
def test_index_text_is_the_tokens_the_snippets_find(text):
    """The fast index_text (str.translate) writes exactly the tokens, in order, that the
    span-keeping tokenizer of the snippets makes one by one."""
    from finews_spider.search.index import text_tokens as _text_tokens

    assert index_text(text) == " ".join(token for token, _, _ in _text_tokens(text))
