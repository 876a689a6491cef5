"""Chinese full-text search on SQLite FTS5, by overlapping character bigrams.

SQLite's ``unicode61`` tokenizer keeps a run of Chinese characters as one token, so
"国寿" would never match "国寿姓党"; the ``trigram`` tokenizer cannot match words of
fewer than three characters. Instead the indexed text is rewritten before it reaches
FTS5: every run of Chinese characters becomes its overlapping bigrams plus its last
character, other words stay words::

    中国人寿AA级 -> 中国 国人 人寿 寿 aa 级

A query is rewritten the same way into an FTS5 phrase of consecutive tokens, so a
phrase matches exactly the articles that contain it as a substring (no dictionary, no
segmentation errors), a two-character word is one token lookup, and a single character
is a prefix query. This is the approach of Lucene's CJK analyzer, without a custom
tokenizer, so any SQLite build and Datasette can use the index.
"""

from __future__ import annotations

import operator
import re

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A run of Chinese characters, or a run of other letters and digits.
_TOKEN_RUN = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")
_QUERY_TERM = re.compile(r'"([^"]*)"|(\S+)')


def _cjk_tokens(run: str, *, last: bool) -> list[str]:
    if len(run) == 1:
        return [run]
    grams = list(map(operator.add, run[:-1], run[1:]))
    # The trailing unigram lets a query that ends where the run ends (or a single
    # character) find it; a query's own last run must not ask for it.
    return grams if last else grams + [run[-1]]


def index_text(text: str) -> str:
    """The text to store in the FTS5 table for ``text`` (the tokens, space-separated).

    The hot path of every archive write, hence the C-level ``map`` over each run."""
    out: list[str] = []
    append = out.append
    for cjk, word in _TOKEN_RUN.findall(text):
        if cjk:
            if len(cjk) > 1:
                append(" ".join(map(operator.add, cjk[:-1], cjk[1:])))
            append(cjk[-1])
        else:
            append(word.lower())
    return " ".join(out)


def _term_query(term: str) -> str | None:
    runs = _TOKEN_RUN.findall(term)
    if not runs:
        return None
    tokens: list[str] = []
    for i, (cjk, word) in enumerate(runs):
        tokens.extend(_cjk_tokens(cjk, last=i == len(runs) - 1) if cjk else [word.lower()])
    phrase = '"' + " ".join(tokens) + '"'
    last_cjk = runs[-1][0]
    if len(last_cjk) == 1:
        phrase += "*"  # a single trailing character may start a bigram
    return phrase


def fts_query(query: str) -> str:
    """An FTS5 MATCH expression for what an analyst typed: every term (or "quoted
    phrase") must occur. Returns ``'""'`` (matches nothing) for a query with no words."""
    phrases = []
    for match in _QUERY_TERM.finditer(query or ""):
        phrase = _term_query(match.group(1) if match.group(1) is not None else match.group(2))
        if phrase:
            phrases.append(phrase)
    return " ".join(phrases) if phrases else '""'
