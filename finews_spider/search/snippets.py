"""Snippets: an excerpt of an article around what a search found, the words marked.

The FTS table is contentless, so FTS5's snippet() has no text to cut from; these
functions find the matches in the body's plain text (html_to_text of the stored
body_html) with the index's own rules.
"""

from __future__ import annotations

import html
import re

from .index import TOKEN_RUN, cjk_tokens, text_tokens

_QUERY_TERM = re.compile(r'"([^"]*)"|(\S+)')


def _query_terms(query: str) -> list[tuple[list[str], bool]]:
    """Each term of ``query`` as the token sequence of its FTS5 phrase, and whether its
    last token is a prefix (the ``*`` of a trailing single character)."""
    terms = []
    for match in _QUERY_TERM.finditer(query or ""):
        runs = TOKEN_RUN.findall(match.group(1) if match.group(1) is not None else match.group(2))
        if not runs:
            continue
        tokens: list[str] = []
        for i, (cjk, word) in enumerate(runs):
            tokens.extend(cjk_tokens(cjk, last=i == len(runs) - 1) if cjk else [word.lower()])
        terms.append((tokens, len(runs[-1][0]) == 1))
    return terms


def match_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Where ``query`` matches ``text``, as sorted, non-overlapping ``(start, end)``
    character spans: exactly the places where the FTS5 phrase of ``fts_query`` matches
    the tokens of ``index_text``, so a span is shown for every reason a row matched (in
    this column)::

        >>> match_spans("中国人寿推动高质量发展", "人寿 质量")
        [(2, 4), (7, 9)]
    """
    tokens = text_tokens(text or "")
    values = [t[0] for t in tokens]
    spans = []
    for phrase, prefix in _query_terms(query):
        n = len(phrase)
        for i in range(len(values) - n + 1):
            if values[i : i + n - 1] == phrase[:-1] and (
                values[i + n - 1].startswith(phrase[-1]) if prefix else values[i + n - 1] == phrase[-1]
            ):
                end = tokens[i + n - 1][2]
                if prefix and len(values[i + n - 1]) > len(phrase[-1]):
                    end -= 1  # a single character matched the start of a bigram
                spans.append((tokens[i][1], end))
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def snippet(
    text: str,
    query: str,
    *,
    context: int = 30,
    fragments: int = 3,
    mark: tuple[str, str] = ("<mark>", "</mark>"),
    escape=html.escape,
    ellipsis: str = "…",
) -> str:
    """An excerpt of ``text`` around the matches of ``query``, the matched words wrapped
    in ``mark``: at most ``fragments`` pieces of about ``context`` characters either side
    of a match, joined by ``ellipsis``. With no match (the query matched the title, or
    none was given) the start of the text. ``escape`` is applied to the text, not to the
    marks (HTML by default; pass ``str`` for plain text)::

        >>> snippet("2021年是“十四五”规划的开局之年", "十四五", context=3)
        '…年是“<mark>十四五</mark>”规划…'
    """
    text = " ".join((text or "").split())  # one line: newlines between paragraphs become spaces
    spans = match_spans(text, query)
    if not spans:
        cut = text[: 2 * context]
        return escape(cut) + (ellipsis if len(text) > len(cut) else "")
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
    return "".join(out) + (ellipsis if previous_end < len(text) else "")
