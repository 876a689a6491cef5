"""The articles table's search, for archives: which search a request asks for, and the
WHERE clause that answers it.

A word with more than ``newest_first_above`` matches (10,000 unless the plugin's
configuration says) is answered from the index newest first (doc_ids follow the
publication order), its count read from the index alone, without facets: the cost
follows the page, not the number of matches (the count, in the page and in the JSON's
``filtered_table_rows_count``, is read from the index).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
from typing import NamedTuple

from datasette.filters import FilterArguments
from datasette.utils import urlsafe_components
from datasette.utils.asgi import BadRequest

from finews_spider.search import MIDDLE_DOC_ID_SQL, SearchSyntaxError, count_queries, fts_query, matches_sql

PLUGIN = "finews"  # the entry point's name: plugin configuration lives under plugins: finews:
ARTICLES = "articles"
NEWEST_FIRST_ABOVE = 10_000  # matches; see the module's docstring
# Query-string keys of a search that the newest-first answer serves: anything else
# (a column filter, another sort, _where, ...) gets the general one.
_PLAIN_SEARCH_KEYS = {
    "_search",
    "_searchmode",
    "_size",
    "_next",
    "_col",
    "_nocol",
    "_nosuggest",
    "_nocount",
    "_nofacet",
    "_labels",
    "_nolabels",
    "_shape",
    "_json",
    "_trace",
    "_timelimit",
    "_ttl",
    "_sort_desc",
}


class ArticleSearch(NamedTuple):
    """A search of an archive's articles table, as the request asks it."""

    words: str
    raw: bool  # _searchmode=raw: words is an FTS5 expression as typed
    matches: int | None  # counted from the index (None: the expression is not valid FTS5)
    newest_first: bool  # answered from the index newest first (see the module)
    above: int  # the plugin's newest_first_above
    error: str | None = None  # why the words are outside the search syntax (nothing is searched)

    @property
    def match_sql(self) -> str:
        return ":search" if self.raw else "finews_match(:search)"


# Set by the plugin's asgi_wrapper for a request that searches an archive's articles table.
article_search_var: contextvars.ContextVar[ArticleSearch | None] = contextvars.ContextVar(
    "finews_article_search", default=None
)

# Per database path: (the state of its files, the median doc_id then).
_middles: dict[str, tuple[tuple, int | None]] = {}


async def middle_doc_id(db) -> int | None:
    """The archive's median doc_id (``search.MIDDLE_DOC_ID_SQL``), read again only when
    the database or its write-ahead log changed."""
    state = tuple((st.st_size, st.st_mtime_ns) for st in map(_stat, (db.path, db.path + "-wal")))
    cached = _middles.get(db.path)
    if cached is None or cached[0] != state:
        row = (await db.execute(MIDDLE_DOC_ID_SQL)).first()
        cached = _middles[db.path] = (state, row[0] if row else None)
    return cached[1]


def _stat(path: str) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError:
        return os.stat_result((0,) * 10)


async def article_search(datasette, name: str, args: list[tuple[str, str]]) -> ArticleSearch | None:
    """The search a request of the archive ``name``'s articles table asks for (None if
    it searches nothing): its words, its match count from the index, and whether it is
    answered newest first from the index (a plain search, sorted by doc_id descending,
    with more matches than the plugin's ``newest_first_above``)."""
    params = dict(args)
    words = params.get("_search", "").strip()
    if not words:
        return None
    raw = params.get("_searchmode") == "raw"
    config = datasette.plugin_config(PLUGIN, database=name) or {}
    above = int(config.get("newest_first_above", NEWEST_FIRST_ABOVE))
    try:
        expression = words if raw else fts_query(words)
    except SearchSyntaxError as exc:
        return ArticleSearch(words, raw, None, False, above, str(exc))
    db = datasette.get_database(name)
    try:
        # Two halves at once, on two of Datasette's SQL threads (each has its connection).
        counts = await asyncio.gather(
            *(db.execute(sql, values) for sql, values in count_queries(expression, await middle_doc_id(db)))
        )
        matches = sum(result.first()[0] for result in counts)
    except Exception:  # an invalid raw expression: the table page reports Datasette's error
        matches = None
    plain = all(k in _PLAIN_SEARCH_KEYS for k, _ in args) and params.get("_sort_desc", "doc_id") == "doc_id"
    return ArticleSearch(words, raw, matches, plain and matches is not None and matches > above, above)


def search_filter(search: ArticleSearch, before: int | None = None, window: int = 1001) -> tuple[str, dict]:
    """The WHERE clause (and its parameters) that selects a search's articles: newest
    first from the index, at most ``window`` of them below the doc_id ``before``, or,
    when the search is not answered newest first, every match."""
    params: dict = {"search": search.words}
    if not search.newest_first:
        return f"doc_id IN ({matches_sql(search.match_sql)})", params
    if before is not None:
        params["finews_before"] = before
    params["finews_window"] = window
    below = None if before is None else ":finews_before"
    return f"doc_id IN ({matches_sql(search.match_sql, below, ':finews_window')})", params


def filter_arguments(request, datasette) -> FilterArguments:
    """What the search box of an archive's articles table adds to Datasette's query: the
    search's WHERE clause, its description and the page's context. Words outside the
    search syntax select nothing: the HTML page says why at its top (and in its
    heading), JSON and CSV are a 400 error with the message."""
    search = article_search_var.get()
    if search is None or request.args.get("_search", "").strip() != search.words:
        return FilterArguments([], extra_context={"supports_search": True})
    if search.error:
        if request.url_vars.get("format") not in (None, "html"):
            raise BadRequest(f"_search: {search.error}")
        datasette.add_message(request, f"Search not understood: {search.error}", datasette.ERROR)
        described = f'search "{search.words}" not understood (see above)'
        return FilterArguments(["0"], {}, [described], {"supports_search": True, "search": search.words})
    before = None
    if search.newest_first and request.args.get("_next"):
        # The page starts below the last doc_id shown; Datasette's own _next clause and
        # LIMIT then take the page from the window.
        try:
            before = int(urlsafe_components(request.args["_next"])[0])
        except ValueError:
            pass
    where, params = search_filter(search, before, datasette.max_returned_rows + 1)
    described = f'search matches "{search.words}"'
    if search.newest_first:
        described += f": {search.matches:,} articles, newest first (no facets above {search.above:,} matches)"
    return FilterArguments([where], params, [described], {"supports_search": True, "search": search.words})


def with_row_count(send, matches: int):
    """``send`` for a JSON response whose ``filtered_table_rows_count`` is to be
    ``matches`` (the count the plugin read from the index, Datasette having been told
    ``_nocount``): the body is held until complete, the count set, the length fixed."""
    start: dict = {}
    chunks: list[bytes] = []

    async def send_with_count(message):
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            return await send(message)
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict) and "filtered_table_rows_count" in data and data["filtered_table_rows_count"] is None:
            data["filtered_table_rows_count"] = matches
            body = json.dumps(data).encode("utf-8")
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return send_with_count
