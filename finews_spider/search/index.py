"""What the search index holds: the tokens of an article, and the FTS5 table they go to.

SQLite's ``unicode61`` tokenizer keeps a run of Chinese characters as one token, so
"国寿" would never match "国寿姓党"; the ``trigram`` tokenizer cannot match words of
fewer than three characters. Instead the indexed text is rewritten before it reaches
FTS5: every run of Chinese characters becomes its overlapping bigrams plus its last
character, other words stay words::

    中国人寿AA级 -> 中国 国人 人寿 寿 aa 级

A query is rewritten the same way (:mod:`finews_spider.search.query`) into an FTS5 phrase
of consecutive tokens, so a phrase matches exactly the articles that contain it as a
substring (no dictionary, no segmentation errors), a two-character word is one token
lookup, and a single character is a prefix query. This is the approach of Lucene's CJK
analyzer, without a custom tokenizer, so any SQLite build and Datasette can use the index.

This module is all the write side needs (the archive imports it); the read side is
:mod:`.query` and :mod:`.snippets`.
"""

from __future__ import annotations

import operator
import re

from ..cleaning.body import html_to_text

#: The version of what the index holds for an article (``document_tokens``: the tokens of
#: ``index_text`` over the title and the plain text ``html_to_text`` makes of the body).
#: The index is contentless, so removing an article's old version needs exactly the
#: tokens it was indexed with: bump this whenever either function would give other
#: tokens for a stored article, and the archive rebuilds its index on the next open.
INDEX_VERSION = 2  # 2: the ascii tokenizer (FTS_COLUMNS)

#: The index table, contentless (the text is derived from ``body_html`` when needed), and
#: its columns and tokenizer. Its input is already ``index_text``'s space-separated
#: tokens, so the tokenizer only has to split on spaces: FTS5's ``ascii`` tokenizer does
#: (every non-ASCII character is part of a token, ASCII is folded to lower case), a
#: third cheaper per article than ``unicode61``, which classifies every character.
FTS_TABLE = "articles_fts"
FTS_TOKENIZE = "tokenize='ascii'"
FTS_COLUMNS = f"title, body_text, content='', {FTS_TOKENIZE}"
#: Bytes of new tokens FTS5 holds in memory before it writes them out as a segment
#: (its default, 1 MiB, is about 30 articles): fewer, larger segments leave less to
#: merge later; a fifth less work per article written (``bench/import.py``).
FTS_HASHSIZE = 16 * 2**20

#: The Chinese characters, as ranges for a regular expression's character class.
CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
#: A run of Chinese characters (group 1), or a run of other letters and digits (group 2).
TOKEN_RUN = re.compile(rf"([{CJK_RANGES}]+)|([^\W_{CJK_RANGES}]+)")


def cjk_tokens(run: str, *, last: bool) -> list[str]:
    """The tokens of a run of Chinese characters: its bigrams, and (unless ``last``, for
    a query's own last run) its last character."""
    if len(run) == 1:
        return [run]
    grams = list(map(operator.add, run[:-1], run[1:]))
    # The trailing unigram lets a query that ends where the run ends (or a single
    # character) find it; a query's own last run must not ask for it.
    return grams if last else grams + [run[-1]]


class _Doubled(dict):
    """``ord(c) -> c + " " + c`` for ``str.translate``, filled as characters are met
    (a few thousand entries for Chinese news)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        value = self[code] = char + " " + char
        return value


_DOUBLED = _Doubled()


def index_text(text: str) -> str:
    """The text to store in the FTS5 table for ``text`` (the tokens, space-separated).

    The hot path of every archive write. A run's bigrams and last character, ``ab bc cd
    d`` for ``abcd``, are its first character followed by every other character doubled
    around a space (``a`` + ``b b`` + ``c c`` + ``d d``), which ``str.translate`` writes
    in C without making a string per bigram (a quarter faster than joining them)."""
    out: list[str] = []
    append = out.append
    for cjk, word in TOKEN_RUN.findall(text):
        if cjk:
            append(cjk[0] + cjk[1:].translate(_DOUBLED))
        else:
            append(word.lower())
    return " ".join(out)


def text_tokens(text: str) -> list[tuple[str, int, int]]:
    """The tokens ``index_text`` makes of ``text``, each with its character span (what
    the snippets match against; a property test checks both give the same tokens)."""
    tokens: list[tuple[str, int, int]] = []
    for m in TOKEN_RUN.finditer(text):
        start = m.start()
        if m.group(1):
            run = m.group(1)
            tokens.extend((run[i : i + 2], start + i, start + i + 2) for i in range(len(run) - 1))
            tokens.append((run[-1], start + len(run) - 1, start + len(run)))
        else:
            tokens.append((m.group(2).lower(), start, m.end()))
    return tokens


def document_tokens(title: str | None, body_html: str | None, body_text: str | None = None) -> tuple[str, str]:
    """What the search index holds for an article: the tokens of its title and of its
    body's plain text (``body_text`` when the caller has it already: it is
    ``html_to_text(body_html)``, computed once by cleaning). The one function used to
    add and to remove an article, so the two always agree (see :data:`INDEX_VERSION`)."""
    return index_text(title or ""), index_text(html_to_text(body_html or "") if body_text is None else body_text)
