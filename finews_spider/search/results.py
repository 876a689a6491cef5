"""Searching an archive: the articles a query matches, newest first, each with its
snippet (the query's words from :mod:`.query`, the excerpts from :mod:`.snippets`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from .query import article_filters, fts_query, join_filters, newest_matches
from .snippets import SNIPPET_SCAN, body_snippet

_ARTICLE_COLUMNS = "doc_id, info_code, published_at, newspaper, slug, title, share_url"
FIRST_WINDOW = 64  # matches read at first by a search with a limit; 4 times more each time after


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
    """The articles of the archive on ``conn`` that ``words`` finds (every word; a
    "quoted phrase" as written; OR, -word, NOT word, parentheses: see :func:`fts_query`),
    newest first, as dicts with ``doc_id``, ``info_code``, ``published_at``,
    ``newspaper``, ``slug``, ``title``, ``share_url`` and ``snippet`` (plain text, the
    words found wrapped in ``mark``).

    ``newspaper`` is a slug; ``since`` and ``until`` are dates (``YYYY-MM-DD``, Beijing
    time, both included); ``stock`` keeps the articles that mention a security or board by
    code (``600160``, ``BK0493``, any case) or by name (``巨化股份``), from the ``mentions``
    table; ``words`` may then be empty. ``limit=None`` returns every match. ``where`` adds filters as
    ``(sql, params)`` pairs on the ``articles`` row (e.g. ``("slug IN (?, ?)", (a, b))``),
    which is how further filters are added. Raises ``ValueError`` for empty words, a
    malformed date or words outside the search syntax (:class:`SearchSyntaxError`)::

        >>> search_archive(conn, "十四五", newspaper="shanxiwanbao", since="2021-12-01")

    With words and a limit, the index is read newest first in growing windows until
    ``limit`` articles pass the other filters, so the cost follows what is shown, not
    the number of matches. Snippets are cut from the start of each body only
    (:data:`~.snippets.SNIPPET_SCAN` characters, read from SQLite already cut): an article
    of 20 MB costs what one of a few pages does.
    """
    query = fts_query(words)
    columns = f"{_ARTICLE_COLUMNS}, substr(body_html, 1, {SNIPPET_SCAN + 1}) AS body_start"
    if query == '""' or limit is None:
        where_sql, params = join_filters(
            article_filters(words, newspaper=newspaper, since=since, until=until, stock=stock, where=where)
        )
        rows = _articles(conn, columns, where_sql, params, limit)
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
            rows += _articles(conn, columns, chosen, [*ids, *params], limit - len(rows))
            if len(ids) < window:
                break
            before, window = ids[-1], min(4 * window, 20_000)
    results = []
    for record in rows:
        body = record.pop("body_start") or ""
        record["snippet"] = body_snippet(body, words, mark=mark, escape=str, title=record["title"] or "")
        results.append(record)
    return results


def _articles(
    conn: sqlite3.Connection, columns: str, where_sql: str, params: Sequence, limit: int | None
) -> list[dict]:
    cursor = conn.execute(
        f"SELECT {columns} FROM articles WHERE {where_sql} ORDER BY doc_id DESC"
        + (" LIMIT ?" if limit is not None else ""),
        [*params, *([limit] if limit is not None else [])],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]
