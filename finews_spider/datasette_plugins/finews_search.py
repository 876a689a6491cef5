"""Datasette plugin: Chinese search for the finews archive.

Datasette's search box runs ``... MATCH escape_fts(:search)``. For the ``finews``
database this plugin registers its own ``escape_fts``, which rewrites what the analyst
typed into a phrase query over the archive's bigram index (see finews_spider/search.py),
so the search box finds 国寿, 地铁 and longer phrases. ``trylast`` makes it run after
Datasette's own registration of the function, and so replace it.
"""

from datasette import hookimpl

from finews_spider.search import fts_query

DATABASE = "finews"


@hookimpl(trylast=True)
def prepare_connection(conn, database):
    if database == DATABASE:
        conn.create_function("escape_fts", 1, fts_query, deterministic=True)
