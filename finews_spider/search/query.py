"""The search syntax, and searching an archive with it.

One syntax for ``scrapy search``, Datasette's search box and ``finews_match()`` in SQL
(docs/search-syntax.md)::

    十四五 国寿              both words, anywhere in the article (title or body)
    "高质量 发展"            a phrase: 高质量发展 as written (spaces between Chinese characters are dropped)
    十四五 OR 国寿           either
    国寿 -十四五             国寿, and not 十四五 (also: 国寿 NOT 十四五)
    (十四五 OR 国寿) 地铁    parentheses group

``parse_query`` reads it into a small tree (:class:`Term`, :class:`AllOf`, :class:`AnyOf`),
``fts_query`` writes that as an FTS5 MATCH expression over the index of
:mod:`.index`, and :mod:`.snippets` marks in the text the terms the tree found. Whatever
else FTS5 would read (NEAR, column filters, ``word*``, ``^``) is refused with a
:class:`SearchSyntaxError` that says what is supported, rather than silently searched
for as words.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..cleaning.dates import parse_day
from .index import CJK_RANGES, FTS_TABLE, TOKEN_RUN, cjk_tokens

#: What the search understands, said by every refusal.
SUPPORTED = (
    'searches understand words (every one must occur), "quoted phrases", OR between terms, '
    "-word or NOT word to leave out, and ( ) to group"
)
MAX_QUERY_CHARS = 1000
MAX_TERMS = 64
MAX_DEPTH = 16  # parentheses within parentheses


class SearchSyntaxError(ValueError):
    """A query outside the search syntax; ``str()`` is one line saying what is wrong and
    what is supported."""

    def __init__(self, problem: str):
        super().__init__(f"{problem}; {SUPPORTED}")
        self.problem = problem


# -- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A word or a "quoted phrase": consecutive index tokens; ``prefix`` when its last
    token is a single Chinese character, which may also start a bigram."""

    tokens: tuple[str, ...]
    prefix: bool

    def fts(self) -> str:
        return '"' + " ".join(self.tokens) + '"' + ("*" if self.prefix else "")


@dataclass(frozen=True)
class AllOf:
    """Every one of ``include`` occurs, none of ``exclude`` does."""

    include: tuple[Node, ...]
    exclude: tuple[Node, ...] = ()

    def fts(self) -> str:
        # FTS5 reads phrases side by side as AND, but wants AND written next to a group.
        joint = " " if all(isinstance(node, Term) for node in self.include) else " AND "
        included = joint.join(_grouped(node, AnyOf) for node in self.include)
        if not self.exclude:
            return included
        if len(self.include) > 1:
            included = f"({included})"
        excluded = " OR ".join(_grouped(node, AllOf) for node in self.exclude)
        if len(self.exclude) > 1 or not isinstance(self.exclude[0], Term):
            excluded = f"({excluded})"
        return f"{included} NOT {excluded}"


@dataclass(frozen=True)
class AnyOf:
    """At least one of ``alternatives`` occurs."""

    alternatives: tuple[Node, ...]

    def fts(self) -> str:
        return " OR ".join(_grouped(node, AllOf) for node in self.alternatives)


Node = Term | AllOf | AnyOf


def _grouped(node: Node, kind: type) -> str:
    """``node`` in parentheses if it is a ``kind`` (an AllOf or an AnyOf has two parts or
    more; FTS5 reads NOT before AND before OR, the parentheses make the order plain)."""
    return f"({node.fts()})" if isinstance(node, kind) else node.fts()


# -- reading a query -----------------------------------------------------------------------

_OPERATORS = {"OR", "AND", "NOT"}
_SPACE_IN_CJK = re.compile(rf"(?<=[{CJK_RANGES}])\s+(?=[{CJK_RANGES}])")
_COLUMN_FILTER = re.compile(r"^(\{|(title|body_text)\s*:)", re.IGNORECASE)
# Operators of other syntaxes, and what to write instead.
_OTHER_OPERATORS = {
    "|": "write OR",
    "||": "write OR",
    "&": "words side by side must all occur",
    "&&": "words side by side must all occur",
    "!": "write -word or NOT word",
}


def _term(text: str, quoted: bool) -> Term | None:
    """The term of a word or a phrase (None if it has no letters or digits). In a phrase,
    spaces between Chinese characters are dropped: Chinese is written without them, so
    "高质量 发展" is 高质量发展."""
    if quoted:
        text = _SPACE_IN_CJK.sub("", text)
    runs = TOKEN_RUN.findall(text)
    if not runs:
        return None
    tokens: list[str] = []
    for i, (cjk, word) in enumerate(runs):
        tokens.extend(cjk_tokens(cjk, last=i == len(runs) - 1) if cjk else [word.lower()])
    return Term(tuple(tokens), len(runs[-1][0]) == 1)


def _refuse_other_syntax(word: str) -> None:
    """Refuse a bare word that is another search syntax (FTS5's, or a search engine's)."""
    if word in _OTHER_OPERATORS:
        raise SearchSyntaxError(f"{word!r} is not an operator here ({_OTHER_OPERATORS[word]})")
    if word == "NEAR" or word.startswith(("NEAR(", "NEAR/")):
        raise SearchSyntaxError("NEAR is not supported")
    if _COLUMN_FILTER.match(word):
        raise SearchSyntaxError(f"column filters ({word}) are not supported")
    if word.startswith("^"):
        raise SearchSyntaxError(f"^ ({word}) is not supported")
    if len(word) > 1 and word.endswith("*") and TOKEN_RUN.search(word[-2]):
        raise SearchSyntaxError(f"prefix searches ({word}) are not supported")


def _lex(query: str) -> list[tuple[str, object]]:
    """The query as tokens: ``("(", None)``, ``(")", None)``, ``("-", None)``,
    ``("OR"|"AND"|"NOT", None)`` and ``("term", Term | None)``. A ``(`` opens a group at
    the start of a word, a ``)`` closes one at its end (elsewhere, as in 中国人寿(601628),
    they are punctuation of the word); an unclosed quote runs to the end."""
    out: list[tuple[str, object]] = []
    i, n, depth = 0, len(query), 0
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c == "(":
            out.append(("(", None))
            depth += 1
            i += 1
        elif c == ")" and depth:
            out.append((")", None))
            depth -= 1
            i += 1
        elif c == "-":
            if i + 1 == n or query[i + 1].isspace():
                raise SearchSyntaxError("a - goes right before the word it leaves out (-十四五)")
            out.append(("-", None))
            i += 1
        elif c == '"':
            end = query.find('"', i + 1)
            end = n if end < 0 else end
            out.append(("term", _term(query[i + 1 : end], quoted=True)))
            i = end + 1
        else:
            end = i
            while end < n and not query[end].isspace() and query[end] != '"':
                end += 1
            word, closes = query[i:end], 0
            while closes < depth and word.endswith(")"):
                word, closes = word[:-1], closes + 1
            if word in _OPERATORS:
                out.append((word, None))
            elif word:
                _refuse_other_syntax(word)
                out.append(("term", _term(word, quoted=False)))
            out += [(")", None)] * closes
            depth -= closes
            i = end
    return out


class _Parser:
    """query := any; any := all (OR all)*; all := unary ([AND] unary)*;
    unary := (- | NOT) primary | primary; primary := term | ( any )."""

    def __init__(self, tokens: list[tuple[str, object]]):
        self.tokens, self.pos, self.terms = tokens, 0, 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, object]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def any(self, depth: int) -> Node | None:
        start = self.pos
        alternatives = [self.all(depth)]
        while self.peek() == "OR":
            if self.pos == start:
                raise SearchSyntaxError("OR needs a term on either side")
            self.take()
            start = self.pos
            alternatives.append(self.all(depth))
            if self.pos == start:
                raise SearchSyntaxError("OR needs a term on either side")
        kept = [a for a in alternatives if a is not None]  # a term of punctuation only asks for nothing
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else AnyOf(tuple(kept))

    def all(self, depth: int) -> Node | None:
        include: list[Node] = []
        exclude: list[Node] = []
        while self.peek() not in (None, ")", "OR"):
            kind = self.peek()
            if kind == "AND":
                self.take()
                if self.peek() in (None, ")", "OR") or not (include or exclude):
                    raise SearchSyntaxError("AND needs a term on either side")
                continue
            negative = kind in ("-", "NOT")
            if negative:
                self.take()
                if self.peek() in (None, ")", "OR", "AND", "NOT", "-"):
                    raise SearchSyntaxError(f"{'NOT' if kind == 'NOT' else '-'} needs the term it leaves out after it")
            node = self.primary(depth)
            if node is not None:
                (exclude if negative else include).append(node)
        if exclude and not include:
            raise SearchSyntaxError("nothing to find: -word and NOT word only leave out, so add a word that must occur")
        if not include:
            return None
        if len(include) == 1 and not exclude:
            return include[0]
        return AllOf(tuple(include), tuple(exclude))

    def primary(self, depth: int) -> Node | None:
        kind, value = self.take()
        if kind == "term":
            if value is not None:
                self.terms += 1
                if self.terms > MAX_TERMS:
                    raise SearchSyntaxError(f"more than {MAX_TERMS} terms")
            assert value is None or isinstance(value, Term)
            return value
        if kind == "(":
            if depth >= MAX_DEPTH:
                raise SearchSyntaxError(f"parentheses deeper than {MAX_DEPTH}")
            node = self.any(depth + 1)
            if self.peek() == ")":
                self.take()
            if node is None:
                raise SearchSyntaxError("( ) with nothing to find inside")
            return node
        raise SearchSyntaxError(f"{kind} in the wrong place")  # never: all() only calls on a term or "("


def parse_query(query: str | None) -> Node | None:
    """The search tree of ``query`` (None when it has no words). Raises
    :class:`SearchSyntaxError` for what the syntax does not support."""
    query = query or ""
    if len(query) > MAX_QUERY_CHARS:
        raise SearchSyntaxError(f"longer than {MAX_QUERY_CHARS} characters")
    parser = _Parser(_lex(query))
    node = parser.any(0)
    if parser.peek() is not None:  # a ) that closes no group was read as punctuation
        raise SearchSyntaxError(f"{parser.peek()} in the wrong place")
    return node


def fts_query(query: str | None) -> str:
    """The FTS5 MATCH expression of what an analyst typed (see the module): every word
    must occur, a "quoted phrase" as written, OR, -word / NOT word, ( ). Returns ``'""'``
    (matches nothing) for a query with no words; raises :class:`SearchSyntaxError` (a
    ``ValueError``) for what the syntax does not support::

        >>> fts_query('(十四五 OR 国寿) -"高质量 发展"')
        '("十四 四五" OR "国寿") NOT "高质 质量 量发 发展"'
    """
    node = parse_query(query)
    return '""' if node is None else node.fts()


# -- searching an archive -------------------------------------------------------------------


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
    """How many articles ``words`` finds (see :func:`fts_query`), read from the index alone."""
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
    Raises ``ValueError`` for a malformed date or words outside the search syntax, and,
    with ``require``, when there are neither words to search for nor ``stock`` (an
    export may select everything)."""
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
    if since and until and _date(since, "since") > _date(until, "until"):
        raise ValueError(f"since={since!r} is after until={until!r}: the window would be empty")
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
    return parse_day(value, name).isoformat()
