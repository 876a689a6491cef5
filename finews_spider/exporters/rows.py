"""Exports of archived rows as JSON Lines or CSV: what ``scrapy export`` writes.

Every column of the ``articles`` row, the paper's ``province`` and ``city``, the body's plain text (``body_text``, derived from
``body_html`` as cleaning derives it: the archive does not store it), plus the article's
mentions (``mentions`` table,
in order of first appearance): a list of objects in JSON Lines, one text column in CSV
(``kind market.code name`` joined by ``; ``, e.g. ``stock 1.600160 巨化股份; board
90.BK0493 新能源``). Rows come newest first and are streamed: one row in memory at a
time, whatever the archive's size.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import IO

from ..cleaning.body import html_to_text
from ..search import join_filters

FORMATS = ("jsonl", "csv")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
MENTION_FIELDS = ("kind", "market", "code", "name", "exchange")


def format_for(path: str) -> str | None:
    """The format a file name asks for by its extension (``-``, stdout: JSON Lines), or None."""
    if path == "-":
        return "jsonl"
    for ext, fmt in EXTENSIONS.items():
        if path.lower().endswith(ext):
            return fmt
    return None


#: The newspaper's columns an export adds to each article, after its ``newspaper``.
PAPER_COLUMNS = ("province", "city")


def article_columns(conn: sqlite3.Connection) -> list[str]:
    """The columns of an export: those of the archive's ``articles`` table, in table
    order, with the paper's ``province`` and ``city`` after ``newspaper`` and
    ``body_text`` after ``body_html``."""
    columns = [r[1] for r in conn.execute("PRAGMA table_info(articles)")]
    if "body_text" not in columns:
        columns.insert(columns.index("body_html") + 1 if "body_html" in columns else len(columns), "body_text")
    at = columns.index("newspaper") + 1 if "newspaper" in columns else len(columns)
    columns[at:at] = PAPER_COLUMNS
    return columns


def export_rows(conn: sqlite3.Connection, filters: Iterable[tuple[str, Sequence]] = ()) -> Iterator[dict]:
    """The ``articles`` rows selected by ``filters`` (``search.article_filters``), newest
    first (ties: the later archived first), each with ``mentions`` (a list of dicts with
    ``kind``, ``market``, ``code``, ``name``, ``exchange``). A generator over one cursor."""
    where, params = join_filters(filters)
    has_mentions = (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='mentions'").fetchone() is not None
    )
    paper_columns = {r[1] for r in conn.execute("PRAGMA table_info(newspapers)")}
    paper = ", ".join(
        f"(SELECT {c} FROM newspapers WHERE newspapers.slug = articles.slug) AS paper_{c}"
        if c in paper_columns
        else f"NULL AS paper_{c}"  # an archive of an older schema, exported without being upgraded
        for c in PAPER_COLUMNS
    )
    cursor = conn.execute(
        f"SELECT *, {paper} FROM articles WHERE {where} ORDER BY published_at DESC, doc_id DESC", params
    )
    names = [d[0] for d in cursor.description]
    derive = "body_text" not in names
    for values in cursor:
        row = _arranged(dict(zip(names, values)), derive)
        row["mentions"] = (
            [
                dict(zip(MENTION_FIELDS, m))
                for m in conn.execute(
                    f"SELECT {', '.join(MENTION_FIELDS)} FROM mentions WHERE info_code=? ORDER BY rowid",
                    (row["info_code"],),
                )
            ]
            if has_mentions
            else []
        )
        yield row


def _arranged(row: dict, derive: bool) -> dict:
    """``row`` in the export's column order: the paper's ``province`` and ``city`` after
    ``newspaper``, and (``derive``) ``body_text``, the plain text of ``body_html``, after it."""
    paper = {c: row.pop(f"paper_{c}") for c in PAPER_COLUMNS}
    out = {}
    for name, value in row.items():
        out[name] = value
        if name == "newspaper":
            out.update(paper)
        elif name == "body_html" and derive:
            out["body_text"] = html_to_text(value or "")
    return out


def mentions_text(mentions: Iterable[dict]) -> str:
    """The CSV form of an article's mentions: ``kind market.code name`` joined by ``; ``."""
    return "; ".join(f"{m['kind']} {m['market']}.{m['code']} {m['name'] or ''}".rstrip() for m in mentions)


def write_jsonl(rows: Iterable[dict], out: IO[str]) -> int:
    """One JSON object per line (UTF-8, not ASCII-escaped); returns the rows written."""
    n = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(rows: Iterable[dict], out: IO[str], columns: Sequence[str]) -> int:
    """A header of ``columns`` plus ``mentions``, then one record per row (the header
    even when there are none); returns the rows written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*columns, "mentions"])
    n = 0
    for row in rows:
        writer.writerow([*(row.get(c) for c in columns), mentions_text(row["mentions"])])
        n += 1
    return n
