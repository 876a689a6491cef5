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

import html
import operator
import re
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date

from .cleaning.body import html_to_text

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
    for cjk, word in _TOKEN_RUN.findall(text):
        if cjk:
            append(cjk[0] + cjk[1:].translate(_DOUBLED))
        else:
            append(word.lower())
    return " ".join(out)


def document_tokens(title: str | None, body_html: str | None, body_text: str | None = None) -> tuple[str, str]:
    """What the search index holds for an article: the tokens of its title and of its
    body's plain text (``body_text`` when the caller has it already: it is
    ``html_to_text(body_html)``, computed once by cleaning). The one function used to
    add and to remove an article, so the two always agree (see :data:`INDEX_VERSION`)."""
    return index_text(title or ""), index_text(html_to_text(body_html or "") if body_text is None else body_text)


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


# -- snippets -----------------------------------------------------------------------
# The FTS table is contentless, so FTS5's snippet() has no text to cut from; these
# functions find the matches in the body's plain text (html_to_text of the stored
# body_html) with the index's own rules.


def _text_tokens(text: str) -> list[tuple[str, int, int]]:
    """The tokens ``index_text`` makes of ``text``, each with its character span."""
    tokens: list[tuple[str, int, int]] = []
    for m in _TOKEN_RUN.finditer(text):
        start = m.start()
        if m.group(1):
            run = m.group(1)
            tokens.extend((run[i : i + 2], start + i, start + i + 2) for i in range(len(run) - 1))
            tokens.append((run[-1], start + len(run) - 1, start + len(run)))
        else:
            tokens.append((m.group(2).lower(), start, m.end()))
    return tokens


def _query_terms(query: str) -> list[tuple[list[str], bool]]:
    """Each term of ``query`` as the token sequence of its FTS5 phrase, and whether its
    last token is a prefix (the ``*`` of a trailing single character)."""
    terms = []
    for match in _QUERY_TERM.finditer(query or ""):
        runs = _TOKEN_RUN.findall(match.group(1) if match.group(1) is not None else match.group(2))
        if not runs:
            continue
        tokens: list[str] = []
        for i, (cjk, word) in enumerate(runs):
            tokens.extend(_cjk_tokens(cjk, last=i == len(runs) - 1) if cjk else [word.lower()])
        terms.append((tokens, len(runs[-1][0]) == 1))
    return terms


def match_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Where ``query`` matches ``text``, as sorted, non-overlapping ``(start, end)``
    character spans: exactly the places where the FTS5 phrase of ``fts_query`` matches
    the tokens of ``index_text``, so a span is shown for every reason a row matched (in
    this column)::

        >>> match_spans("中国人寿推动高质量发展", "人寿 质量")
        [(2, 4), (7, 9)]
    """
    tokens = _text_tokens(text or "")
    values = [t[0] for t in tokens]
    spans = []
    for phrase, prefix in _query_terms(query):
        n = len(phrase)
        for i in range(len(values) - n + 1):
            if values[i : i + n - 1] == phrase[:-1] and (
                values[i + n - 1].startswith(phrase[-1]) if prefix else values[i + n - 1] == phrase[-1]
            ):
                end = tokens[i + n - 1][2]
                if prefix and len(values[i + n - 1]) > len(phrase[-1]):
                    end -= 1  # a single character matched the start of a bigram
                spans.append((tokens[i][1], end))
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def snippet(
    text: str,
    query: str,
    *,
    context: int = 30,
    fragments: int = 3,
    mark: tuple[str, str] = ("<mark>", "</mark>"),
    escape=html.escape,
    ellipsis: str = "…",
) -> str:
    """An excerpt of ``text`` around the matches of ``query``, the matched words wrapped
    in ``mark``: at most ``fragments`` pieces of about ``context`` characters either side
    of a match, joined by ``ellipsis``. With no match (the query matched the title, or
    none was given) the start of the text. ``escape`` is applied to the text, not to the
    marks (HTML by default; pass ``str`` for plain text)::

        >>> snippet("2021年是“十四五”规划的开局之年", "十四五", context=3)
        '…年是“<mark>十四五</mark>”规划…'
    """
    text = " ".join((text or "").split())  # one line: newlines between paragraphs become spaces
    spans = match_spans(text, query)
    if not spans:
        cut = text[: 2 * context]
        return escape(cut) + (ellipsis if len(text) > len(cut) else "")
    windows: list[list[int]] = []  # [start, end]; a piece grows to about 4 × context at most
    for start, end in spans:
        if windows and end <= windows[-1][1]:
            continue  # already in view
        if windows and start - context <= windows[-1][1] and end + context - windows[-1][0] <= 4 * context:
            windows[-1][1] = min(len(text), end + context)
        elif len(windows) < fragments:
            windows.append([max(0, start - context, windows[-1][1] if windows else 0), min(len(text), end + context)])
        else:
            break
    out, previous_end = [], 0
    for window in windows:
        for start, end in spans:  # never show half a match at either edge
            if start < window[1] < end:
                window[1] = start
            if start < window[0] < end:
                window[0] = end
        out.append("" if window[0] == previous_end else ellipsis)
        pos = window[0]
        for start, end in spans:
            if start >= window[0] and end <= window[1]:
                out += [escape(text[pos:start]), mark[0], escape(text[start:end]), mark[1]]
                pos = end
        out.append(escape(text[pos : window[1]]))
        previous_end = window[1]
    return "".join(out) + (ellipsis if previous_end < len(text) else "")


# -- searching an archive -------------------------------------------------------------

_ARTICLE_COLUMNS = "doc_id, info_code, published_at, newspaper, slug, title, share_url, body_html"
FIRST_WINDOW = 64  # matches read at first by a search with a limit; 4 times more each time after


def matches_sql(match: str = "?", before: str | None = None, limit: str | None = None) -> str:
    """The SELECT of the doc_ids whose index entry matches the FTS5 expression the SQL
    ``match`` gives (a parameter, or e.g. ``finews_match(:q)``): all of them, or, with
    ``limit``, the ``limit`` newest (below ``before``, if given). doc_ids follow the
    publication order, so the newest are read from the index newest first, stopping
    after ``limit``: a word in half of a million articles costs what a rare one does."""
    sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH {match}"
    if before is not None:
        sql += f" AND rowid < {before}"
    return sql if limit is None else f"{sql} ORDER BY rowid DESC LIMIT {limit}"


def newest_matches(conn: sqlite3.Connection, match: str, limit: int, before: int | None = None) -> list[int]:
    """The doc_ids of the ``limit`` newest articles whose index entry matches the FTS5
    expression ``match`` (see :func:`fts_query`), below ``before`` if given (see
    :func:`matches_sql`)."""
    sql = matches_sql(before=None if before is None else "?", limit="?")
    return [row[0] for row in conn.execute(sql, [match, *([] if before is None else [before]), limit])]


def count_matches(conn: sqlite3.Connection, words: str) -> int:
    """How many articles contain ``words`` (every word), read from the index alone."""
    return sum(conn.execute(sql, params).fetchone()[0] for sql, params in count_queries(fts_query(words)))


#: The median doc_id of the archive, where a count splits in two (see count_queries); no
#: row for an empty archive. It reads the doc_id index (about 10 ms at a million
#: articles), so callers keep it while the archive is unchanged: a stale one still
#: counts right, only less evenly.
MIDDLE_DOC_ID_SQL = "SELECT doc_id FROM articles ORDER BY doc_id LIMIT 1 OFFSET (SELECT count(*) FROM articles) / 2"


def count_queries(match: str, middle: int | None = None) -> list[tuple[str, list]]:
    """The queries whose results add up to the number of index entries matching the FTS5
    expression ``match``: one, or, given the doc_id ``middle``, the two index ranges
    either side of it, for two connections to count at once (a phrase of three bigrams
    found in half a million articles takes 60–110 ms on one core: the positions of every
    article containing all three are compared)."""
    sql = f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?"
    if middle is None:
        return [(sql, [match])]
    return [(sql + " AND rowid < ?", [match, middle]), (sql + " AND rowid >= ?", [match, middle])]


def search_archive(
    conn: sqlite3.Connection,
    words: str = "",
    newspaper: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = 20,
    where: Iterable[tuple[str, Sequence]] = (),
    mark: tuple[str, str] = ("", ""),
    stock: str | None = None,
) -> list[dict]:
    """The articles of the archive on ``conn`` that contain ``words`` (every word; a
    "quoted phrase" as written), newest first, as dicts with ``doc_id``, ``info_code``,
    ``published_at``, ``newspaper``, ``slug``, ``title``, ``share_url`` and ``snippet``
    (plain text, matches wrapped in ``mark``).

    ``newspaper`` is a slug; ``since`` and ``until`` are dates (``YYYY-MM-DD``, Beijing
    time, both included); ``stock`` keeps the articles that mention a security or board by
    code (``600160``, ``BK0493``, any case) or by name (``巨化股份``), from the ``mentions``
    table; ``words`` may then be empty. ``limit=None`` returns every match. ``where`` adds filters as
    ``(sql, params)`` pairs on the ``articles`` row (e.g. ``("slug IN (?, ?)", (a, b))``),
    which is how further filters are added. Raises ``ValueError`` for empty words or a
    malformed date::

        >>> search_archive(conn, "十四五", newspaper="shanxiwanbao", since="2021-12-01")

    With words and a limit, the index is read newest first in growing windows until
    ``limit`` articles pass the other filters, so the cost follows what is shown, not
    the number of matches.
    """
    query = fts_query(words)
    if query == '""' or limit is None:
        where_sql, params = join_filters(
            article_filters(words, newspaper=newspaper, since=since, until=until, stock=stock, where=where)
        )
        rows = _articles(conn, where_sql, params, limit)
    else:
        where_sql, params = join_filters(
            article_filters("", newspaper=newspaper, since=since, until=until, stock=stock, where=where, require=False)
        )
        rows, before, window = [], None, max(2 * limit, FIRST_WINDOW)
        while len(rows) < limit:
            ids = newest_matches(conn, query, window, before)
            if not ids:
                break
            chosen = f"doc_id IN ({','.join('?' * len(ids))}) AND {where_sql}"
            rows += _articles(conn, chosen, [*ids, *params], limit - len(rows))
            if len(ids) < window:
                break
            before, window = ids[-1], min(4 * window, 20_000)
    results = []
    for record in rows:
        record["snippet"] = snippet(html_to_text(record.pop("body_html") or ""), words, mark=mark, escape=str)
        results.append(record)
    return results


def _articles(conn: sqlite3.Connection, where_sql: str, params: Sequence, limit: int | None) -> list[dict]:
    cursor = conn.execute(
        f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE {where_sql} ORDER BY doc_id DESC"
        + (" LIMIT ?" if limit is not None else ""),
        [*params, *([limit] if limit is not None else [])],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def article_filters(
    words: str = "",
    newspaper: str | None = None,
    since: str | None = None,
    until: str | None = None,
    stock: str | None = None,
    where: Iterable[tuple[str, Sequence]] = (),
    require: bool = True,
) -> list[tuple[str, Sequence]]:
    """The ``(sql, params)`` filters on the ``articles`` row that select what ``words``,
    ``newspaper``, ``since``, ``until``, ``stock`` and ``where`` ask for (see
    :func:`search_archive`); shared by searches and exports, so both select alike.
    Raises ``ValueError`` for a malformed date, and, with ``require``, when there are
    neither words to search for nor ``stock`` (an export may select everything)."""
    query = fts_query(words)
    clauses: list[tuple[str, Sequence]] = []
    if query != '""':
        clauses.append((f"doc_id IN ({matches_sql()})", (query,)))
    elif require and not (stock or "").strip():
        raise ValueError("no words to search for")
    if stock and stock.strip():
        stock = stock.strip()
        clauses.append(
            ("info_code IN (SELECT info_code FROM mentions WHERE code = ? OR name = ?)", (stock.upper(), stock))
        )
    if newspaper:
        clauses.append(("slug = ?", (newspaper,)))
    if since:
        clauses.append(("published_date >= ?", (_date(since, "since"),)))
    if until:
        clauses.append(("published_date <= ?", (_date(until, "until"),)))
    clauses.extend(where)
    return clauses


def join_filters(clauses: Iterable[tuple[str, Sequence]]) -> tuple[str, list]:
    """``(sql, params)`` of filters joined by AND (``1`` when there are none)."""
    clauses = list(clauses)
    sql = " AND ".join(f"({c})" for c, _ in clauses) or "1"
    return sql, [p for _, ps in clauses for p in ps]


def _date(value: str, name: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise ValueError(f"{name}: not a date (YYYY-MM-DD): {value!r}") from None
