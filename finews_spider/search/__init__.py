"""Chinese full-text search on SQLite FTS5, by overlapping character bigrams.

- :mod:`.index`: what the index holds (``index_text``, ``document_tokens``,
  ``INDEX_VERSION``, the FTS5 table's name, columns, tokenizer and buffer); all the
  archive's write side needs.
- :mod:`.query`: the search syntax (``parse_query``, ``fts_query``,
  ``SearchSyntaxError``) and searching an archive with it (``search_archive``,
  ``article_filters``, ``matches_sql``, counts).
- :mod:`.snippets`: the excerpt around what a search found (``match_spans``,
  ``snippet``, ``body_snippet``), bounded in the text it reads.

The names below are the package's public ones; import them from here.
"""

from .index import (
    FTS_COLUMNS,
    FTS_HASHSIZE,
    FTS_TABLE,
    FTS_TOKENIZE,
    INDEX_VERSION,
    document_tokens,
    index_text,
    text_tokens,
)
from .query import (
    MIDDLE_DOC_ID_SQL,
    SUPPORTED,
    AllOf,
    AnyOf,
    SearchSyntaxError,
    Term,
    article_filters,
    count_matches,
    count_queries,
    fts_query,
    join_filters,
    matches_sql,
    newest_matches,
    parse_query,
)
from .results import FIRST_WINDOW, search_archive
from .snippets import MAX_SPANS, SNIPPET_SCAN, body_snippet, match_spans, snippet

__all__ = [
    "FIRST_WINDOW",
    "FTS_COLUMNS",
    "FTS_HASHSIZE",
    "FTS_TABLE",
    "FTS_TOKENIZE",
    "INDEX_VERSION",
    "MAX_SPANS",
    "MIDDLE_DOC_ID_SQL",
    "SNIPPET_SCAN",
    "SUPPORTED",
    "AllOf",
    "AnyOf",
    "SearchSyntaxError",
    "Term",
    "article_filters",
    "body_snippet",
    "count_matches",
    "count_queries",
    "document_tokens",
    "fts_query",
    "index_text",
    "join_filters",
    "match_spans",
    "matches_sql",
    "newest_matches",
    "parse_query",
    "search_archive",
    "snippet",
    "text_tokens",
]
