"""The search syntax (finews_spider.search.query): what it reads into FTS5, what it refuses,
and that FTS5 and the snippets understand a query alike."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from finews_spider.search import (
    FTS_TOKENIZE,
    SUPPORTED,
    AllOf,
    AnyOf,
    SearchSyntaxError,
    Term,
    count_matches,
    fts_query,
    index_text,
    match_spans,
    parse_query,
    search_archive,
    snippet,
)
from finews_spider.search.index import text_tokens
from finews_spider.search.snippets import _term_spans


@pytest.mark.parametrize(
    "query, expression",
    [
        ("十四五", '"十四 四五"'),
        ("党", '"党"*'),
        ("十四五 国寿", '"十四 四五" "国寿"'),
        ("十四五 AND 国寿", '"十四 四五" "国寿"'),
        ('"高质量 发展"', '"高质 质量 量发 发展"'),  # spaces between Chinese characters dropped in a phrase
        ('"高质量发展"', '"高质 质量 量发 发展"'),
        ('"十四五，规划"', '"十四 四五 五 规划"'),  # punctuation still separates
        ('"bank of"', '"bank of"'),
        ("十四五 OR 国寿", '"十四 四五" OR "国寿"'),
        ("国寿 -十四五", '"国寿" NOT "十四 四五"'),
        ("国寿 NOT 十四五", '"国寿" NOT "十四 四五"'),
        ("国寿 AND NOT 十四五", '"国寿" NOT "十四 四五"'),
        ("国寿 地铁 -十四五 -党建", '("国寿" "地铁") NOT ("十四 四五" OR "党建")'),
        ("(十四五 OR 国寿) 地铁", '("十四 四五" OR "国寿") AND "地铁"'),
        ("十四五 OR 国寿 -地铁", '"十四 四五" OR ("国寿" NOT "地铁")'),
        ('(十四五 OR 国寿) -"高质量 发展"', '("十四 四五" OR "国寿") NOT "高质 质量 量发 发展"'),
        ("国寿 -(十四五 OR 党建)", '"国寿" NOT ("十四 四五" OR "党建")'),
        ("中国人寿(601628)", '"中国 国人 人寿 寿 601628"'),  # a parenthesis inside a word is punctuation
        ("*ST康美", '"st 康美"'),
        ("A+H股", '"a h 股"*'),
        ('"高质量 发展', '"高质 质量 量发 发展"'),  # an unclosed quote runs to the end
        ("(国寿", '"国寿"'),
        ("十四五 or 国寿", '"十四 四五" "or" "国寿"'),  # operators are upper case
        ("，。", '""'),
        ("", '""'),
    ],
)
def test_fts_expressions(query, expression):
    assert fts_query(query) == expression


@pytest.mark.parametrize(
    "query, problem",
    [
        ("NEAR(十四五 国寿)", "NEAR is not supported"),
        ("title:十四五", "column filters (title:十四五) are not supported"),
        ("{title}:十四五", "column filters ({title}:十四五) are not supported"),
        ("financ*", "prefix searches (financ*) are not supported"),
        ("^十四五", "^ (^十四五) is not supported"),
        ("十四五 | 国寿", "'|' is not an operator here (write OR)"),
        ("十四五 && 国寿", "'&&' is not an operator here (words side by side must all occur)"),
        ("十四五 OR", "OR needs a term on either side"),
        ("OR 十四五", "OR needs a term on either side"),
        ("十四五 OR OR 国寿", "OR needs a term on either side"),
        ("十四五 AND", "AND needs a term on either side"),
        ("-十四五", "nothing to find: -word and NOT word only leave out, so add a word that must occur"),
        ("NOT 十四五", "nothing to find: -word and NOT word only leave out, so add a word that must occur"),
        ("国寿 OR -十四五", "nothing to find: -word and NOT word only leave out, so add a word that must occur"),
        ("国寿 NOT", "NOT needs the term it leaves out after it"),
        ("国寿 - 十四五", "a - goes right before the word it leaves out (-十四五)"),
        ("国寿 ()", "( ) with nothing to find inside"),
        ("国 " * 65, "more than 64 terms"),
        ("(" * 17 + "国寿", "parentheses deeper than 16"),
        ("国" * 1001, "longer than 1000 characters"),
    ],
)
def test_what_is_refused_says_what_is_supported(query, problem):
    with pytest.raises(SearchSyntaxError) as refused:
        fts_query(query)
    assert refused.value.problem == problem
    assert str(refused.value) == f"{problem}; {SUPPORTED}" and "\n" not in str(refused.value)
    with pytest.raises(ValueError):  # what callers of fts_query already catch
        match_spans("国寿", query)


def test_the_tree():
    assert parse_query("国寿 -(十四五 OR 党建)") == AllOf(
        (Term(("国寿",), False),), (AnyOf((Term(("十四", "四五"), False), Term(("党建",), False))),)
    )
    assert parse_query("，") is None


# -- FTS5 and the snippets read a query alike --------------------------------------------

WORDS = ["国寿", "地铁", "十四五", "发展", "党", "ab", '"高质 量"', '"地铁，国"']


@st.composite
def queries(draw, depth=0):
    """Queries of the syntax: words and phrases, side by side, OR, -, NOT, ( ); each group
    starts with a word that must occur (a group of exclusions only is refused)."""
    parts = []
    for i in range(draw(st.integers(1, 3))):
        if depth < 2 and draw(st.integers(0, 4)) == 0:
            item = "(" + draw(queries(depth + 1)) + ")"
        else:
            item = draw(st.sampled_from(WORDS))
        parts.append((draw(st.sampled_from(["", "", "-", "NOT "])) if i else "") + item)
        if i < 2 and draw(st.integers(0, 3)) == 0:
            parts.append("OR")
    if parts[-1] == "OR":
        parts.pop()
    return " ".join(parts)


def included_terms(node) -> set:
    """The terms of ``node`` not under an exclusion."""
    if isinstance(node, Term):
        return {node}
    children = node.include if isinstance(node, AllOf) else node.alternatives
    return set().union(*(included_terms(n) for n in children))


def texts_for(query: str, node=None):
    """Texts made of the query's words (those it asks for, more often) and other pieces,
    so that they often match."""
    words = [w for w in WORDS if w in query]
    wanted = {parse_query(w) for w in words} & included_terms(node) if node is not None else set()
    pieces = [w.strip('"').replace(" ", "") for w in words for _ in range(3 if parse_query(w) in wanted else 1)]
    return st.lists(st.sampled_from(pieces + ["，", " ", "人", "国", "寿"]), max_size=8).map("".join)


def holds(node, text: str) -> bool:
    """Whether ``node`` is true of ``text``, term by term (a term: its phrase occurs)."""
    if isinstance(node, Term):
        tokens = text_tokens(text)
        return bool(_term_spans(node, tokens, [t[0] for t in tokens]))
    if isinstance(node, AllOf):
        return all(holds(n, text) for n in node.include) and not any(holds(n, text) for n in node.exclude)
    return any(holds(n, text) for n in node.alternatives)


def fts_matches(text: str, query: str) -> bool:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(t, content='', {FTS_TOKENIZE})")
    conn.execute("INSERT INTO f (rowid, t) VALUES (1, ?)", (index_text(text),))
    return bool(conn.execute("SELECT rowid FROM f WHERE f MATCH ?", (fts_query(query),)).fetchall())


@settings(max_examples=400, deadline=None)
@given(queries(), st.data())
def test_fts5_matches_exactly_what_the_tree_says(query, data):
    """The FTS5 expression of a query is true of a text exactly when the query's tree,
    read term by term as the snippets read it, is."""
    try:
        node = parse_query(query)
    except SearchSyntaxError:
        assume(False)
    text = data.draw(texts_for(query))
    assert fts_matches(text, query) == holds(node, text), (query, fts_query(query))


@settings(max_examples=300, deadline=None)
@given(queries(), st.data())
def test_a_matching_text_is_marked_only_where_it_matched_positively(query, data):
    """In a text the query matches, every mark is a place where a term of a satisfied part
    of the query occurs, never a term the query leaves out there."""
    try:
        node = parse_query(query)
    except SearchSyntaxError:
        assume(False)
    text = data.draw(texts_for(query, node))
    assume(fts_matches(text, query))

    def marked_terms(node) -> list[Term]:  # the terms of the parts of the query true of text
        if isinstance(node, Term):
            return [node] if holds(node, text) else []
        if isinstance(node, AllOf):
            return [t for n in node.include for t in marked_terms(n)] if holds(node, text) else []
        return [t for n in node.alternatives for t in marked_terms(n)]

    allowed = set()
    tokens = text_tokens(text)
    for term in marked_terms(node):
        for start, end in _term_spans(term, tokens, [t[0] for t in tokens]):
            allowed.update(range(start, end))
    spans = match_spans(text, query, title="")  # (the index of fts_matches has no title)
    assert spans, "a matching text has a mark"
    for start, end in spans:
        assert set(range(start, end)) <= allowed, (query, text[start:end])


def test_an_excluded_word_is_never_marked():
    text = "国寿和地铁，十四五规划"
    marked = snippet(text, "国寿 OR (地铁 -十四五)", mark=("[", "]"), escape=str)
    assert marked == "[国寿]和地铁，十四五规划"
    assert snippet(text, "十四五 OR 地铁", mark=("[", "]"), escape=str) == "国寿和[地铁]，[十四五]规划"


def test_the_title_says_which_part_of_a_query_holds():
    """A part of the query whose words are partly in the title holds: its words in the
    body are marked; without the title's word it does not, and they are not (given the
    title; not knowing it, a word missing from the body may be there)."""
    text = "国寿和地铁"
    query = "(地铁 十四五) OR 国寿"
    assert snippet(text, query, mark=("[", "]"), escape=str, title="十四五规划") == "[国寿]和[地铁]"
    assert snippet(text, query, mark=("[", "]"), escape=str, title="山西晚报") == "[国寿]和地铁"
    assert snippet(text, query, mark=("[", "]"), escape=str) == "[国寿]和[地铁]"


# -- on the quick start's archive ---------------------------------------------------------------


@pytest.fixture(scope="module")
def conn(replayed_archive):
    c = sqlite3.connect(replayed_archive / "finews.db")
    yield c
    c.close()


def codes(conn, words) -> set[str]:
    return {r["info_code"] for r in search_archive(conn, words, limit=None)}


def test_the_readmes_phrase_and_or_find_what_they_say(conn):
    """Issue #22: '"高质量 发展"' (the README's phrase) and 十四五 OR 国寿 found nothing."""
    phrase = codes(conn, '"高质量 发展"')
    assert phrase and phrase == codes(conn, "高质量发展")
    either = codes(conn, "十四五 OR 国寿")
    assert either and either == codes(conn, "十四五") | codes(conn, "国寿")
    assert codes(conn, "国寿 -十四五") == codes(conn, "国寿") - codes(conn, "十四五")
    assert codes(conn, "国寿 NOT 十四五") == codes(conn, "国寿 -十四五")
    grouped = codes(conn, "(十四五 OR 乡村振兴) 党建")
    assert grouped == (codes(conn, "十四五") | codes(conn, "乡村振兴")) & codes(conn, "党建")
    assert count_matches(conn, "十四五 OR 国寿") == len(either)


def test_search_archive_refuses_what_is_not_supported(conn):
    with pytest.raises(SearchSyntaxError, match="NEAR is not supported"):
        search_archive(conn, "NEAR(十四五 国寿)")
