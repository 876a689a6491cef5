"""The plugin's Datasette hooks (registered through the package, see ``__init__``)."""

from __future__ import annotations

import contextvars
import hashlib
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from markupsafe import Markup

from finews_spider.schema import is_archive
from finews_spider.search import SearchSyntaxError, body_snippet, fts_query

from . import filters
from .filters import ARTICLES, article_search, article_search_var, with_row_count
from .metadata import apply_to_datasette_1, is_datasette_1, metadata_for
from .recognition import database_is_archive

# What a search (or a plain visit) of the articles table shows, unless the URL says.
RESULT_COLUMNS = ("title", "newspaper", "published_at", "body_html")
SNIPPET_CONTEXT = 40
STATIC = Path(__file__).with_name("static")
# The name Datasette serves the static/ folder under (/-/static-plugins/NAME/): the
# distribution's.
STATIC_NAME = "finews-spider"
_PAGES = ("database", "table", "row", "query")


def _asset(name: str) -> str:
    """The URL of a file of static/, with its content's hash (a changed file is fetched anew)."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/-/static-plugins/{STATIC_NAME}/{name}?v={digest}"


_CSS_URL = _asset("finews.css")
_JS_URL = _asset("finews.js")
# Set for the HTML page of an archive's articles table: the words searched ("" if none).
_results_page: contextvars.ContextVar[str | None] = contextvars.ContextVar("finews_results_page", default=None)


@hookimpl
def get_metadata(datasette, key, database, table):
    # Datasette 0.65; 1.0 has no such hook (see startup).
    return metadata_for(datasette)


@hookimpl
def startup(datasette):
    """Datasette 1.0: the plugin's metadata and configuration are applied once, at startup
    (metadata.apply_to_datasette_1); 0.65 asks get_metadata on each request instead."""
    if is_datasette_1(datasette):
        return apply_to_datasette_1(datasette)
    return None


@hookimpl(trylast=True)
def prepare_connection(conn, database, datasette):
    # trylast: after Datasette's own escape_fts, so this one replaces it.
    if is_archive(conn):
        conn.create_function("escape_fts", 1, sql_match, deterministic=True)
        conn.create_function("finews_match", 1, sql_match, deterministic=True)
        conn.create_function("finews_snippet", 2, sql_snippet, deterministic=True)
        conn.create_function("finews_snippet", 3, sql_snippet, deterministic=True)


def sql_match(words: str | None) -> str:
    """``finews_match(words)``: the FTS5 expression of ``words`` (see
    ``search.fts_query``). A query outside the search syntax gives an expression that
    makes SQLite itself fail with the refusal's message: an error raised by a Python SQL
    function reaches the user only as "user-defined function raised exception", while
    FTS5 names the column of a column filter it does not know, so the message is read as
    ``no such column: finews_match(): NEAR is not supported; searches understand …``."""
    try:
        return fts_query(words)
    except SearchSyntaxError as exc:
        return '"' + f"finews_match(): {exc}".replace('"', '""') + '" : x'


def sql_snippet(text: str | None, words: str | None, title: str | None = None) -> str:
    """``finews_snippet(body_html, words[, title])``: HTML, the matches in ``<mark>``.
    ``text`` is the body's HTML (its plain text is cut from) or any plain text; with the
    article's ``title``, a part of the query whose words are partly in the title counts
    (see ``search.match_spans``). Bounded: cut from the first ``search.SNIPPET_SCAN``
    characters of ``text``."""
    return body_snippet(text or "", words or "", context=SNIPPET_CONTEXT, title=title)


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
    if table in _LINKED and isinstance(value, str) and value and database_is_archive(datasette, database):
        # A mention, a revision or a query's row: its article's page, by infoCode (and title).
        if column == "info_code":
            return _article_link(datasette, database, value, value)
        if column == "title" and table is None and "info_code" in row.keys() and row["info_code"]:
            return _article_link(datasette, database, row["info_code"], value)
    if table == ARTICLES and column in ("body_html", "published_at"):
        words = _results_page.get()
        if words is not None and isinstance(value, str) and database_is_archive(datasette, database):
            if column == "published_at":  # 2021-12-23T07:25:33+08:00 -> 2021-12-23 07:25 (Beijing time)
                return value[:16].replace("T", " ")
            title = row["title"] if "title" in row.keys() else None
            return Markup(f'<span class="finews-snippet">{sql_snippet(value, words, title)}</span>')
    return None


_LINKED = (None, "mentions", "revisions")  # (None: the rows of a query)


def _article_link(datasette, database: str, info_code: str, text: str) -> Markup:
    url = datasette.urls.row(database, ARTICLES, tilde_encode(info_code))
    return Markup('<a href="{}">{}</a>').format(url, text)


@hookimpl(trylast=True)
def filters_from_request(request, database, table, datasette):
    """The articles table's search, for archives (trylast: what it says of the search
    box wins over Datasette's own search filter, which finds no FTS table configured)."""
    if table != ARTICLES or not database_is_archive(datasette, database):
        return None
    return filters.filter_arguments(request, datasette)


@hookimpl
def asgi_wrapper(datasette):
    """The articles table of an archive, before Datasette sees the request: its HTML page
    lists results (``RESULT_COLUMNS``, the body as a snippet) unless the URL chooses
    columns; no suggested facets (``_nosuggest``); a search answered newest first is not
    counted nor faceted by Datasette. JSON and CSV keep every column; row pages are
    unchanged.

    Why a wrapper: Datasette 0.65 has no hook for a table's default columns, for turning
    off suggested facets per table, or for the count of a table page, so the request's
    query string gets those arguments added here; and the one response rewritten,
    the JSON of a search answered newest first, gets its ``filtered_table_rows_count``
    from the index (``filters.with_row_count``), which no hook can set. Everything else
    is done by hooks."""

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
                        search_token = article_search_var.set(search)
                        page_token = _results_page.set(dict(args).get("_search", "") if html else None)
                        if search is not None and search.newest_first and parts[1].endswith(".json"):
                            assert search.matches is not None  # newest first only with a count
                            send = with_row_count(send, search.matches)
                        try:
                            return await app(scope, receive, send)
                        finally:
                            _results_page.reset(page_token)
                            article_search_var.reset(search_token)
            return await app(scope, receive, send)

        return wrapped

    return wrap


def _archive_page(database, view_name, datasette) -> bool:
    return bool(database) and view_name in _PAGES and database_is_archive(datasette, database)


@hookimpl
def extra_css_urls(template, database, table, columns, view_name, request, datasette):
    """The style of archives' pages (static/finews.css): snippets, results, row pages."""
    return [_CSS_URL] if _archive_page(database, view_name, datasette) else []


@hookimpl
def extra_js_urls(template, database, table, columns, view_name, request, datasette):
    """static/finews.js on archives' pages, as a module (it runs once the page is parsed)."""
    return [{"url": _JS_URL, "module": True}] if _archive_page(database, view_name, datasette) else []
