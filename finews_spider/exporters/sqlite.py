"""The SQLite archive (sqlite-utils): articles, their revisions, newspapers, crawls,
and the Chinese full-text index that Datasette searches.

Every write of an article is one transaction: the row, its previous version, the search
index and the newspaper's count change together or not at all.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path

import sqlite_utils

from ..cleaning import content_hash, html_to_text
from ..schema import APPLICATION_ID
from ..search import index_text

SCHEMA_VERSION = 4  # 4: the application_id marker
BUSY_TIMEOUT = 30.0  # seconds a write waits for another process's transaction

ARTICLE_COLUMNS = {
    "info_code": str,
    "doc_id": int,
    "title": str,
    "published_at": str,
    "published_date": str,
    "newspaper": str,
    "slug": str,
    "body_html": str,
    "body_text": str,
    "source": str,
    "editor": str,
    "share_url": str,
    "fetched_at": str,
    "content_hash": str,
    "first_seen_at": str,
    "last_seen_at": str,
}
TABLES = {
    "newspapers": ({"slug": str, "name": str, "region": str, "article_count": int}, "slug"),
    "revisions": (
        {"id": int, "info_code": str, "title": str, "body_html": str, "content_hash": str, "seen_at": str,
         "replaced_at": str},
        "id",
    ),
    "crawls": (
        {
            "id": int, "spider": str, "started_at": str, "finished_at": str, "status": str,
            "reason": str, "articles_new": int, "articles_changed": int,
            "articles_unchanged": int, "articles_skipped": int, "articles_dropped": int,
            "requests": int, "retries": int, "errors": int, "duration_seconds": float,
        },
        "id",
    ),
}
# Index choice is driven by the queries Datasette runs. Its search is
# "doc_id IN (SELECT rowid FROM articles_fts WHERE ... MATCH ...) ORDER BY published_at
# DESC LIMIT 51": with (published_at, doc_id) and no index led by doc_id, SQLite walks
# the date index and probes the match set, stopping after 51 rows, instead of fetching
# and sorting every match (see bench/search.py). Facets with a search use the
# (newspaper, doc_id) and (published_date, doc_id) covering indexes the same way.
INDEXES = {
    "articles": [["published_at", "doc_id"], ["slug", "published_at"], ["newspaper", "doc_id"],
                 ["published_date", "doc_id"], ["last_seen_at"]],
    "revisions": [["info_code", "seen_at"], ["replaced_at"]],
    "crawls": [["spider", "started_at"]],
}
# Indexes of earlier versions that the planner must no longer see.
DROPPED_INDEXES = ["idx_articles_doc_id", "idx_articles_published_at", "idx_articles_published_date_slug"]
FTS_TABLE = "articles_fts"


def iso(value) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


class ArchiveDatabase:
    """``finews.db``: open (creating or upgrading it) with ``ArchiveDatabase(path)``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT, isolation_level=None)
        self._use_wal()
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.db = sqlite_utils.Database(self.conn)
        self.migrate()

    def _use_wal(self) -> None:
        """WAL lets readers (Datasette, the next run's checks) read while a run writes.
        The mode is stored in the file; switching it can fail with "database is locked"
        without waiting (SQLite does not call the busy handler there) while another
        process creates the same archive, so it is retried."""
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self.conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self.conn.close()

    # -- schema -----------------------------------------------------------------------
    def migrate(self) -> None:
        """Create what is missing and upgrade an archive written by an older version:
        new columns are added, and derived columns of old rows are filled in. An archive
        already at ``SCHEMA_VERSION`` is left alone (no scan on every open)."""
        if self.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        with self._transaction():
            if self.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                return  # another process upgraded it while we waited for the lock
            articles = self.db["articles"]
            if not articles.exists():
                articles.create(ARTICLE_COLUMNS, pk="info_code")
            else:
                missing = [c for c in ARTICLE_COLUMNS if c not in articles.columns_dict]
                for column in missing:
                    articles.add_column(column, ARTICLE_COLUMNS[column])
            for name, (columns, pk) in TABLES.items():
                table = self.db[name]
                if not table.exists():
                    table.create(columns, pk=pk)
                else:
                    for column, kind in columns.items():
                        if column not in table.columns_dict:
                            table.add_column(column, kind)
            for name in DROPPED_INDEXES:
                self.conn.execute(f"DROP INDEX IF EXISTS {name}")
            for table, indexes in INDEXES.items():
                for columns in indexes:
                    self.db[table].create_index(columns, if_not_exists=True)
            self.conn.execute("CREATE TABLE IF NOT EXISTS finews_meta (key TEXT PRIMARY KEY, value INTEGER)")
            self.conn.execute(
                "INSERT OR IGNORE INTO finews_meta (key, value) SELECT 'last_doc_id', COALESCE(MAX(doc_id), 0) FROM articles"
            )
            if FTS_TABLE not in self.db.table_names():
                # Contentless: the index only, the text itself is in articles (see _index).
                self.conn.execute(f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(title, body_text, content='')")
            self._backfill()
            self.conn.execute("UPDATE articles SET published_date=substr(published_at, 1, 10) WHERE published_date IS NULL")
            self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # what the Datasette plugin recognizes
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _backfill(self) -> None:
        """Fill the columns an older archive lacks (ids, text, hashes, seen times, search)."""
        rows = self.conn.execute(
            "SELECT info_code, title, body_html, fetched_at, doc_id, body_text, content_hash, first_seen_at "
            "FROM articles WHERE doc_id IS NULL OR body_text IS NULL OR content_hash IS NULL OR first_seen_at IS NULL"
        ).fetchall()
        for code, title, body, fetched, doc_id, text, chash, first in rows:
            unindexed = doc_id is None  # rows with a doc_id are in the search index already
            doc_id = doc_id or self._next_doc_id()
            text = text if text is not None else html_to_text(body or "")
            self.conn.execute(
                "UPDATE articles SET doc_id=?, body_text=?, content_hash=?, first_seen_at=?, last_seen_at=COALESCE(last_seen_at, ?) WHERE info_code=?",
                (doc_id, text, chash or content_hash(title or "", body or ""), first or fetched, fetched, code),
            )
            if unindexed:
                self._index(doc_id, index_text(title or ""), index_text(text))
        # Every paper of an article is a row of newspapers, with its count.
        self.conn.execute(
            "INSERT OR IGNORE INTO newspapers (slug, name, article_count) SELECT slug, max(newspaper), 0 FROM articles GROUP BY slug"
        )
        self.conn.execute("UPDATE newspapers SET article_count=(SELECT count(*) FROM articles WHERE slug=newspapers.slug)")

    def _transaction(self):
        return _Transaction(self.conn)

    # -- newspapers -------------------------------------------------------------------
    def sync_newspapers(self, papers: Iterable) -> None:
        """Upsert the registry (name, slug, region) without touching the counts."""
        with self._transaction():
            for paper in papers:
                self._ensure_newspaper(paper.slug, paper.name, paper.region)

    def _ensure_newspaper(self, slug: str, name: str, region: str | None = None) -> None:
        self.conn.execute(
            "INSERT INTO newspapers (slug, name, region, article_count) VALUES (?, ?, ?, 0) "
            "ON CONFLICT(slug) DO UPDATE SET name=excluded.name, region=COALESCE(excluded.region, newspapers.region)",
            (slug, name, region),
        )

    def _recount(self, slug: str) -> None:
        self.conn.execute(
            "UPDATE newspapers SET article_count=(SELECT count(*) FROM articles WHERE slug=?) WHERE slug=?",
            (slug, slug),
        )

    # -- articles ---------------------------------------------------------------------
    def get(self, info_code: str, columns: str = "*") -> dict | None:
        """The article's row (only ``columns``, comma-separated, if given), or None."""
        cursor = self.conn.execute(f"SELECT {columns} FROM articles WHERE info_code=?", (info_code,))
        row = cursor.fetchone()
        return dict(zip([d[0] for d in cursor.description], row)) if row else None

    def save_article(self, article: Mapping, seen_at: datetime | str) -> str:
        """Insert or update one article; returns ``new``, ``changed`` or ``unchanged``.

        A changed title or body keeps the previous version in ``revisions``."""
        return self.save_articles([article], seen_at)[0]

    def save_articles(self, articles: Iterable[Mapping], seen_at: datetime | str) -> list[str]:
        """Save several articles in one transaction (all or none); their statuses in order.

        Everything that needs no database (plain text, hash, search tokens) is computed
        before the write lock is taken, so concurrent writers wait as little as possible."""
        seen = iso(seen_at)
        prepared = []
        for article in articles:
            row = {c: iso(article.get(c)) for c in ARTICLE_COLUMNS if c in article}
            row["published_date"] = row["published_at"][:10]  # Beijing date: the value carries +08:00
            row.setdefault("body_text", html_to_text(row["body_html"]))
            row.setdefault("content_hash", content_hash(row["title"], row["body_html"]))
            prepared.append((row, index_text(row["title"]), index_text(row["body_text"])))
        with self._transaction():
            return [self._save(row, tokens, seen) for row, *tokens in prepared]

    def _save(self, row: dict, tokens: list[str], seen: str) -> str:
        old = self.conn.execute(
            "SELECT doc_id, title, body_html, content_hash, slug, first_seen_at, last_seen_at, body_text "
            "FROM articles WHERE info_code=?",
            (row["info_code"],),
        ).fetchone()
        if old is None:
            status, row["doc_id"], row["first_seen_at"] = "new", self._next_doc_id(), seen
        else:
            doc_id, old_title, old_body, old_hash, old_slug, first_seen, last_seen, old_text = old
            row["doc_id"], row["first_seen_at"] = doc_id, first_seen
            status = "unchanged" if old_hash == row["content_hash"] else "changed"
            if status == "changed":
                self.conn.execute(
                    "INSERT INTO revisions (info_code, title, body_html, content_hash, seen_at, replaced_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (row["info_code"], old_title, old_body, old_hash, last_seen, seen),
                )
        row["last_seen_at"] = seen
        columns = list(row)
        self.conn.execute(
            f"INSERT INTO articles ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT(info_code) DO UPDATE SET {', '.join(f'{c}=excluded.{c}' for c in columns if c != 'info_code')}",
            [row[c] for c in columns],
        )
        if status != "unchanged":
            if old is not None:
                self._unindex(row["doc_id"], old_title, old_text)
            self._index(row["doc_id"], *tokens)
        if old is None or old_slug != row["slug"]:
            self._ensure_newspaper(row["slug"], row["newspaper"])
            self._recount(row["slug"])
            if old is not None:
                self._recount(old_slug)
        return status

    def _next_doc_id(self) -> int:
        """The next document id, from a counter kept in the same transaction (there is
        deliberately no index led by doc_id to find its maximum; see INDEXES)."""
        return self.conn.execute(
            "UPDATE finews_meta SET value = value + 1 WHERE key = 'last_doc_id' RETURNING value"
        ).fetchone()[0]

    def _index(self, doc_id: int, title_tokens: str, body_tokens: str) -> None:
        self.conn.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, title, body_text) VALUES (?, ?, ?)", (doc_id, title_tokens, body_tokens)
        )

    def _unindex(self, doc_id: int, title: str, body_text: str) -> None:
        """Remove a version from the contentless index: FTS5 needs the text it indexed,
        which is the previous title and body_text, rebuilt the same way."""
        self.conn.execute(
            f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, title, body_text) VALUES ('delete', ?, ?, ?)",
            (doc_id, index_text(title or ""), index_text(body_text or "")),
        )

    def iter_articles(self, where: str | None = None, params: tuple = ()) -> Iterator[dict]:
        sql = "SELECT * FROM articles" + (f" WHERE {where}" if where else "") + " ORDER BY published_at, info_code"
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        for row in cursor:
            yield dict(zip(names, row))

    # -- crawls -----------------------------------------------------------------------
    def record_crawl(self, crawl: Mapping) -> None:
        with self._transaction():
            self.db["crawls"].insert(dict(crawl))


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK``), so concurrent runs queue up on
    the write lock instead of failing half-way. Nested, it joins the open transaction."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.outer = False

    def __enter__(self):
        self.outer = not self.conn.in_transaction
        if self.outer:
            self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.outer:
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
