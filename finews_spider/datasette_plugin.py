"""Datasette plugin for finews archives (registered by entry point: installing the
package is enough, ``datasette ANY-FILE.db`` picks it up).

A database is an archive when it carries the marker the archive sets
(``PRAGMA application_id``, see finews_spider/schema.py), whatever its file name; every
other database is left alone. For archives the plugin

- runs the articles table's search (``?_search=``, the search box) itself, with the
  bigram query rewriting of finews_spider/search.py, so words of any length are found;
  a word with more than ``newest_first_above`` matches (10,000 unless the plugin's
  configuration says) is answered from the index newest first (doc_ids follow the
  publication order), its count read from the index alone, without facets: the cost
  follows the page, not the number of matches (the count, in the page and in the JSON's
  ``filtered_table_rows_count``, is read from the index);
- replaces ``escape_fts`` with the same rewriting, and registers ``finews_match(words)``
  (the FTS5 expression) and ``finews_snippet(text, words)`` (an HTML excerpt with the
  matches in ``<mark>``; ``text`` may be the body's HTML) for SQL;
- supplies the metadata (finews_spider/datasette_metadata.yml): titles, column
  descriptions, facets, sort, the search table, canned queries, rendered bodies, and the
  charts of datasette-dashboards;
- shows the articles table as a results list (title, newspaper, date, snippet), unless
  the URL chooses columns itself (``_col``/``_nocol``); bodies stay on the article page.

Any ``-m`` metadata file (``scrapy serve`` passes ``finews_spider/serve_metadata.yml``, or the
data folder's ``metadata.yml``) still overrides all of it.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import re
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode

import yaml
from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils import tilde_decode, urlsafe_components
from markupsafe import Markup

from finews_spider.cleaning.body import html_to_text
from finews_spider.schema import is_archive, is_archive_file
from finews_spider.search import MIDDLE_DOC_ID_SQL, count_queries, fts_query, matches_sql, snippet

PLUGIN = "finews"  # the entry point's name: plugin configuration lives under plugins: finews:
METADATA_FILE = Path(__file__).with_name("datasette_metadata.yml")
ARTICLES = "articles"
# What a search (or a plain visit) of the articles table shows, unless the URL says.
RESULT_COLUMNS = ("title", "newspaper", "published_at", "body_html")
SNIPPET_CONTEXT = 40
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


def _load_template() -> dict:
    with open(METADATA_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


_TEMPLATE = _load_template()
# Per database name: (path, True) for an archive; (path, mtime, False) otherwise, so a
# file that becomes an archive while Datasette runs is noticed.
_recognized: dict[str, tuple] = {}
_metadata_json: dict[tuple[str, ...], str] = {}
# Set for the HTML page of an archive's articles table: the words searched ("" if none).
_results_page: contextvars.ContextVar[str | None] = contextvars.ContextVar("finews_results_page", default=None)


class ArticleSearch(NamedTuple):
    """A search of an archive's articles table, as the request asks it."""

    words: str
    raw: bool  # _searchmode=raw: words is an FTS5 expression as typed
    matches: int | None  # counted from the index (None: the expression is not valid FTS5)
    newest_first: bool  # answered from the index newest first (see the module)
    above: int  # the plugin's newest_first_above

    @property
    def match_sql(self) -> str:
        return ":search" if self.raw else "finews_match(:search)"


# Set by asgi_wrapper for a request that searches an archive's articles table.
_article_search: contextvars.ContextVar[ArticleSearch | None] = contextvars.ContextVar(
    "finews_article_search", default=None
)


# -- which databases are archives --------------------------------------------------------


def database_is_archive(datasette, name: str) -> bool:
    """True if the database ``name`` of this Datasette carries the finews marker (cached
    per database; a file that is not an archive is looked at again when it changes)."""
    db = datasette.databases.get(name)
    path = getattr(db, "path", None)
    if db is None or path is None or getattr(db, "is_memory", False):
        return False
    cached = _recognized.get(name)
    if cached and cached[0] == path and cached[-1]:
        return True
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return False
    if cached and cached[0] == path and cached[1] == mtime:
        return False
    found = is_archive_file(path)
    _recognized[name] = (path, True) if found else (path, mtime, False)
    return found


def archive_names(datasette) -> tuple[str, ...]:
    return tuple(name for name in list(datasette.databases) if database_is_archive(datasette, name))


def archive_metadata(names: tuple[str, ...]) -> dict:
    """The metadata the plugin contributes for these archive databases: the template's
    ``database`` part under each name, and one dashboard per archive."""
    databases, dashboards = {}, {}
    for name in names:
        databases[name] = _TEMPLATE["database"]
        dashboard = json.loads(json.dumps(_TEMPLATE["dashboard"]))
        for chart in dashboard["charts"].values():
            if "query" in chart:
                chart["db"] = name
        if len(names) > 1:
            dashboard["title"] = f"{dashboard['title']}: {name}"
        dashboards[dashboard_slug(name)] = dashboard
    if not names:
        return {}
    return {"databases": databases, "plugins": {"datasette-dashboards": dashboards}}


def dashboard_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "archive"


# -- hooks --------------------------------------------------------------------------------


@hookimpl
def get_metadata(datasette, key, database, table):
    names = archive_names(datasette)
    if not names:
        return {}
    if names not in _metadata_json:
        _metadata_json[names] = json.dumps(archive_metadata(names), ensure_ascii=False)
    # A fresh copy every time: Datasette merges later sources into what it is given.
    return json.loads(_metadata_json[names])


@hookimpl(trylast=True)
def prepare_connection(conn, database, datasette):
    # trylast: after Datasette's own escape_fts, so this one replaces it.
    if is_archive(conn):
        conn.create_function("escape_fts", 1, fts_query, deterministic=True)
        conn.create_function("finews_match", 1, fts_query, deterministic=True)
        conn.create_function("finews_snippet", 2, sql_snippet, deterministic=True)


def sql_snippet(text: str | None, words: str | None) -> str:
    """``finews_snippet(body_html, words)``: HTML, the matches in ``<mark>``. ``text`` is
    the body's HTML (its plain text is cut from) or any plain text."""
    return snippet(html_to_text(text or ""), words or "", context=SNIPPET_CONTEXT)


_SAFE_SNIPPET = re.compile(r"</?mark>")


def is_snippet_html(value) -> bool:
    """True if ``value`` is markup ``finews_snippet`` could have made: text with no tag
    but ``<mark>``. Only such values are rendered as HTML (a query may return anything
    in a column called snippet)."""
    return isinstance(value, str) and not re.search(r"[<>]", _SAFE_SNIPPET.sub("", value))


@hookimpl(tryfirst=True)
def render_cell(row, value, column, table, database, datasette):
    # tryfirst: before datasette-render-html, which renders body_html everywhere else.
    if table is None and column == "snippet" and is_snippet_html(value) and database_is_archive(datasette, database):
        return Markup(value)
    if table == ARTICLES and column in ("body_html", "published_at"):
        words = _results_page.get()
        if words is not None and isinstance(value, str) and database_is_archive(datasette, database):
            if column == "published_at":  # 2021-12-23T07:25:33+08:00 -> 2021-12-23 07:25 (Beijing time)
                return value[:16].replace("T", " ")
            return Markup(f'<span class="finews-snippet">{sql_snippet(value, words)}</span>')
    return None


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
    expression = words if raw else fts_query(words)
    db = datasette.get_database(name)
    try:
        # Two halves at once, on two of Datasette's SQL threads (each has its connection).
        counts = await asyncio.gather(
            *(db.execute(sql, values) for sql, values in count_queries(expression, await middle_doc_id(db)))
        )
        matches = sum(result.first()[0] for result in counts)
    except Exception:  # an invalid raw expression: the table page reports Datasette's error
        matches = None
    config = datasette.plugin_config(PLUGIN, database=name) or {}
    above = int(config.get("newest_first_above", NEWEST_FIRST_ABOVE))
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


@hookimpl(trylast=True)
def filters_from_request(request, database, table, datasette):
    """The articles table's search, for archives (trylast: what it says of the search
    box wins over Datasette's own search filter, which finds no FTS table configured)."""
    if table != ARTICLES or not database_is_archive(datasette, database):
        return None
    search = _article_search.get()
    if search is None or request.args.get("_search", "").strip() != search.words:
        return FilterArguments([], extra_context={"supports_search": True})
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


@hookimpl
def asgi_wrapper(datasette):
    """The articles table's HTML page lists results (``RESULT_COLUMNS``, the body as a
    snippet) unless the URL chooses columns; JSON and CSV keep every column, row pages
    are unchanged. No suggested facets on the articles table (``_nosuggest``)."""

    def wrap(app):
        async def wrapped(scope, receive, send):
            if scope.get("type") == "http":
                parts = scope.get("path", "").strip("/").split("/")
                if len(parts) == 2 and parts[1].split(".")[0] == ARTICLES:
                    name = tilde_decode(parts[0])
                    if database_is_archive(datasette, name):
                        query = scope.get("query_string", b"")
                        args = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
                        keys = {k for k, _ in args}
                        extra = []
                        if "_nosuggest" not in keys:
                            # Suggested facets try every column over every match: about a
                            # second per page at 20,000 articles; the useful ones are configured.
                            extra.append(("_nosuggest", "1"))
                        html = parts[1] == ARTICLES
                        if html and not keys & {"_col", "_nocol"}:
                            extra += [("_col", c) for c in RESULT_COLUMNS]
                        search = await article_search(datasette, name, args)
                        if search is not None and search.newest_first:
                            # Counted from the index instead; facets of the newest page only would mislead.
                            extra += [("_nocount", "1"), ("_nofacet", "1")]
                        if extra:
                            encoded = urlencode(extra).encode()
                            scope = dict(scope, query_string=query + b"&" + encoded if query else encoded)
                        search_token = _article_search.set(search)
                        page_token = _results_page.set(dict(args).get("_search", "") if html else None)
                        if (
                            search is not None
                            and search.newest_first
                            and search.matches is not None  # always, when newest first
                            and parts[1].endswith(".json")
                        ):
                            send = with_row_count(send, search.matches)
                        try:
                            return await app(scope, receive, send)
                        finally:
                            _results_page.reset(page_token)
                            _article_search.reset(search_token)
            return await app(scope, receive, send)

        return wrapped

    return wrap


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


_PAGE_SCRIPT = """
(function () {
  var style = document.createElement("style");
  style.textContent = %s;
  document.head.appendChild(style);
  var dl = document.querySelector("dl.column-descriptions");
  if (dl) {
    var details = document.createElement("details");
    details.className = "finews-columns";
    var summary = document.createElement("summary");
    summary.textContent = "Column descriptions";
    dl.parentNode.insertBefore(details, dl);
    details.appendChild(summary);
    details.appendChild(dl);
    dl.querySelectorAll("dt").forEach(function (dt) {
      var th = document.querySelector("th.col-" + dt.textContent.trim());
      var dd = dt.nextElementSibling;
      if (th && dd) { th.title = dd.textContent; }
    });
  }
  if (document.body.classList.contains("row")) {
    var ths = document.querySelectorAll("table.rows-and-columns thead th");
    document.querySelectorAll("table.rows-and-columns tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) {
        if (ths[i]) { td.setAttribute("data-label", ths[i].textContent.trim()); }
      });
    });
  }
})();
"""
_PAGE_CSS = (
    "details.finews-columns { margin: 0.5em 0; font-size: 0.85em; }"
    " details.finews-columns summary { cursor: pointer; color: #666; }"
    " td.col-body_html { min-width: 28em; max-width: 48em; }"
    " td.col-title { min-width: 14em; font-weight: 600; }"
    " td.col-published_at { white-space: nowrap; }"
    " td.col-info_code { font-size: 0.8em; }"
    " mark { background: #ffe066; padding: 0 1px; }"
    # A row page reads top to bottom: headline, paper, date, the rendered body, then the rest.
    " body.row table.rows-and-columns, body.row .rows-and-columns tbody, body.row .rows-and-columns td"
    " { display: block; border: none; }"
    " body.row .rows-and-columns tr { display: flex; flex-direction: column; border: none; }"
    " body.row .rows-and-columns thead { display: none; }"
    " body.row .rows-and-columns td { order: 1; padding: 0.2em 0; max-width: 48em; }"
    " body.row .rows-and-columns td:before { content: attr(data-label); display: block; font-size: 0.75em; color: #777; }"
    " body.row td.col-title { order: -3; font-size: 1.5em; font-weight: 600; }"
    " body.row td.col-newspaper { order: -2; } body.row td.col-published_at { order: -1; }"
    " body.row td.col-body_html { order: 0; font-size: 1.05em; line-height: 1.75; margin: 0.5em 0 1em; }"
)


@hookimpl
def extra_body_script(template, database, table, columns, view_name, request, datasette):
    """On an archive's pages: column descriptions folded under a "Column descriptions"
    toggle (so the search box is on the first screen; each one is also the tooltip of
    its column heading), and the style of snippets."""
    if database and view_name in ("table", "row", "database", "query") and database_is_archive(datasette, database):
        return _PAGE_SCRIPT % json.dumps(_PAGE_CSS)
    return None
