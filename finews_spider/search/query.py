"""The search syntax, and searching an archive with it.

A query is rewritten the way the index is (:mod:`.index`) into an FTS5 phrase of
consecutive tokens per term: every term (or "quoted phrase") must occur.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date

from ..cleaning.body import html_to_text
from .index import FTS_TABLE, TOKEN_RUN, cjk_tokens
from .snippets import snippet

_QUERY_TERM = re.compile(r'"([^"]*)"|(\S+)')


def _term_query(term: str) -> str | None:
    runs = TOKEN_RUN.findall(term)
    if not runs:
        return None
    tokens: list[str] = []
    for i, (cjk, word) in enumerate(runs):
        tokens.extend(cjk_tokens(cjk, last=i == len(runs) - 1) if cjk else [word.lower()])
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
