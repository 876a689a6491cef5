"""Datasette plugin for finews archives (registered by entry point: installing the
package is enough, ``datasette ANY-FILE.db`` picks it up).

For every database that is an archive (:mod:`.recognition`: the marker the archive
carries, whatever its file name; every other database is left alone) the plugin

- runs the articles table's search (``?_search=``, the search box) itself, with the
  search syntax of finews_spider/search/ (:mod:`.filters`); a word with more than
  ``newest_first_above`` matches is answered from the index newest first;
- replaces ``escape_fts`` with the same query rewriting, and registers
  ``finews_match(words)`` (the FTS5 expression) and ``finews_snippet(text, words)`` (an
  HTML excerpt with the matches in ``<mark>``; ``text`` may be the body's HTML) for SQL;
- supplies the metadata (:mod:`.metadata`, ``metadata.yml``): titles, column
  descriptions, facets, sort, the search table, canned queries, rendered bodies, and the
  charts of datasette-dashboards;
- shows the articles table as a results list (title, newspaper, date, snippet), unless
  the URL chooses columns itself (``_col``/``_nocol``); bodies stay on the article page;
- styles archives' pages with ``static/finews.css`` and ``static/finews.js``, which
  Datasette serves from this package (``/-/static-plugins/finews-spider/``).

Any ``-m`` metadata file (``scrapy serve`` passes ``finews_spider/serve_metadata.yml``, or the data
folder's ``metadata.yml``) still overrides all of it. The hooks are in
:mod:`.hooks`; Datasette registers those found on this module.
"""

from .hooks import (
    asgi_wrapper,
    extra_css_urls,
    extra_js_urls,
    filters_from_request,
    get_metadata,
    prepare_connection,
    render_cell,
    startup,
)

__all__ = [
    "asgi_wrapper",
    "extra_css_urls",
    "extra_js_urls",
    "filters_from_request",
    "get_metadata",
    "prepare_connection",
    "render_cell",
    "startup",
]
