"""Snippets: an excerpt of an article around what a search found, the words marked.

The index is contentless, so FTS5's ``snippet()`` has no text to cut from; these
functions find the matches in the body's plain text (``html_to_text`` of the stored
``body_html``) by the index's own token rules (:func:`.index.text_tokens`), marking what
the query found positively (never the words it leaves out).

Bounded: a snippet is cut from the first :data:`SNIPPET_SCAN` characters of a body (ten
thousand; the longest article of the sample has about three thousand), its HTML cut
before it is turned into text, and at most :data:`MAX_SPANS` matches are kept, so an
article of 20 MB costs a search what one of a few pages does (``bench/snippet_bounds.py``).
A match further in is not shown: the snippet is then the start of the text.
"""

from __future__ import annotations

import html

from ..cleaning.body import html_to_text
from .index import text_tokens
from .query import AllOf, Node, Term, parse_query

#: Characters of a body (its HTML, or a plain text) a snippet is cut from.
SNIPPET_SCAN = 10_000
#: Matches kept of each term, and in all, for one snippet.
MAX_SPANS = 100


def match_spans(text: str, query: str, *, title: str | None = None, limit: int = MAX_SPANS) -> list[tuple[int, int]]:
    """Where ``query`` matched ``text`` positively, as sorted, non-overlapping ``(start,
    end)`` character spans: the places where its terms' FTS5 phrases match the tokens of
    ``index_text``, for the terms of the parts of the query that hold for the article.
    A term the query leaves out is never marked, nor a term of a part that does not hold
    (in ``国寿 OR (地铁 -十四五)``, 地铁 is not marked in a text with 十四五).

    ``title`` is the article's other indexed text: a part of the query holds when its
    terms occur in ``text`` or in ``title``, as in the index. Not given (None), a term
    missing from ``text`` may be in the title, so only what ``text`` holds rules a part
    out. At most ``limit`` spans, the first ones; ``text`` is read whole (see
    :func:`snippet` for a bounded excerpt). Raises :class:`.query.SearchSyntaxError` for
    a query outside the syntax::

        >>> match_spans("中国人寿推动高质量发展", "人寿 质量")
        [(2, 4), (7, 9)]
        >>> match_spans("中国人寿推动高质量发展", "人寿 -保险 OR 地铁")
        [(2, 4)]
        >>> match_spans("中国人寿推动高质量发展", "人寿 地铁 OR 质量", title="")
        [(7, 9)]
    """
    node = parse_query(query)
    if node is None:
        return []
    found = _Found(text or "", title, limit)
    merged: list[list[int]] = []
    for start, end in sorted(found.shown(node)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged[:limit]]


class _Found:
    """The terms of a query found in a text (and its title): what holds, what is shown.
    (A class, not closures calling each other: those would make reference cycles that
    keep every snippet's tokens until the garbage collector runs.)"""

    def __init__(self, text: str, title: str | None, limit: int):
        self.tokens = text_tokens(text)
        self.values = [t[0] for t in self.tokens]
        self.title = title
        self.title_tokens = text_tokens(title[:SNIPPET_SCAN]) if title else []
        self.title_values = [t[0] for t in self.title_tokens]
        self.limit = limit
        self.spans: dict[Term, list[tuple[int, int]]] = {}

    def spans_of(self, term: Term) -> list[tuple[int, int]]:
        if term not in self.spans:
            self.spans[term] = _term_spans(term, self.tokens, self.values, self.limit)
        return self.spans[term]

    def occurs(self, term: Term) -> bool:
        return bool(self.spans_of(term)) or bool(
            self.title_tokens and _term_spans(term, self.title_tokens, self.title_values, 1)
        )

    def holds(self, node: Node) -> bool:
        """Certainly true of the article."""
        if isinstance(node, Term):
            return self.occurs(node)
        if isinstance(node, AllOf):
            return all(map(self.holds, node.include)) and not any(map(self.holds, node.exclude))
        return any(map(self.holds, node.alternatives))

    def may_hold(self, node: Node) -> bool:
        """True, or true if the title (not given) says so."""
        if isinstance(node, Term):
            return self.title is None or self.occurs(node)
        if isinstance(node, AllOf):
            return all(map(self.may_hold, node.include)) and not any(map(self.holds, node.exclude))
        return any(map(self.may_hold, node.alternatives))

    def shown(self, node: Node) -> list[tuple[int, int]]:
        """The spans of the terms of the parts of ``node`` that (may) hold."""
        if isinstance(node, Term):
            return self.spans_of(node)
        if isinstance(node, AllOf):
            return [s for child in node.include for s in self.shown(child)] if self.may_hold(node) else []
        return [s for child in node.alternatives for s in self.shown(child)]


def _term_spans(term: Term, tokens: list, values: list[str], limit: int = MAX_SPANS) -> list[tuple[int, int]]:
    phrase, prefix = term.tokens, term.prefix
    n, first, last, middle = len(phrase), phrase[0], phrase[-1], list(phrase[1:-1])
    spans = []
    for i in range(len(values) - n + 1):
        value = values[i + n - 1]
        if not (value.startswith(last) if prefix else value == last):
            continue
        if n > 1 and (values[i] != first or values[i + 1 : i + n - 1] != middle):
            continue
        end = tokens[i + n - 1][2]
        if prefix and len(value) > len(last):
            end -= 1  # a single character matched the start of a bigram
        spans.append((tokens[i][1], end))
        if len(spans) >= limit:
            break
    return spans


def snippet(
    text: str,
    query: str,
    *,
    context: int = 30,
    fragments: int = 3,
    mark: tuple[str, str] = ("<mark>", "</mark>"),
    escape=html.escape,
    ellipsis: str = "…",
    title: str | None = None,
    more: bool = False,
) -> str:
    """An excerpt of ``text`` around the matches of ``query`` (its positive terms), the
    matched words wrapped in ``mark``: at most ``fragments`` pieces of about ``context``
    characters either side of a match, joined by ``ellipsis``. With no match (the query
    matched the title, or none was given) the start of the text. ``escape`` is applied to
    the text, not to the marks (HTML by default; pass ``str`` for plain text). ``title``:
    see :func:`match_spans`. Only the first :data:`SNIPPET_SCAN` characters of ``text``
    are read (``more``: the caller has cut ``text`` from a longer one)::

        >>> snippet("2021年是“十四五”规划的开局之年", "十四五", context=3)
        '…年是“<mark>十四五</mark>”规划…'
    """
    text = text or ""
    if len(text) > SNIPPET_SCAN:
        text, more = text[:SNIPPET_SCAN], True
    text = " ".join(text.split())  # one line: newlines between paragraphs become spaces
    spans = match_spans(text, query, title=title)
    if not spans:
        cut = text[: 2 * context]
        return escape(cut) + (ellipsis if more or len(text) > len(cut) else "")
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
    return "".join(out) + (ellipsis if more or previous_end < len(text) else "")


def body_snippet(body: str, query: str, **options) -> str:
    """:func:`snippet` of an article body given as HTML (of its plain text, as the index
    reads it) or as plain text, from its first :data:`SNIPPET_SCAN` characters only: the
    HTML is cut before it is turned into text (before a tag the cut would split)."""
    body = body or ""
    more = len(body) > SNIPPET_SCAN
    if more:
        body = body[:SNIPPET_SCAN]
        if body.rfind("<") > body.rfind(">"):
            body = body[: body.rfind("<")]
    return snippet(html_to_text(body), query, more=more, **options)
