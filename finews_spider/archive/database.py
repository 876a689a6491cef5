"""The SQLite database of the archive (sqlite-utils): articles, their revisions,
newspapers, crawls, and the Chinese full-text index that Datasette searches.

Only :class:`finews_spider.archive.Archive` opens it. Storage stores what it is given:
the derived fields (plain text, hash) come from cleaning. Every write of a batch is one
transaction: the rows, their previous versions, the search index, the newspapers and
their counts change together or not at all.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import sqlite_utils

from ..cleaning.dates import BEIJING
from ..cleaning.text import content_hash
from ..exceptions import ArchiveDamaged
from ..schema import APPLICATION_ID  # the marker by which tools recognise an archive
from ..search import FTS_COLUMNS, FTS_HASHSIZE, FTS_TABLE, INDEX_VERSION, document_tokens

# 4: the application_id marker; 5: mentions; 6: doc_id in publication order, no body_text column;
# 7: newspapers.province and .city (no region: the two joined could not be split again)
SCHEMA_VERSION = 7
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
    "source": str,
    "editor": str,
    "share_url": str,
    "fetched_at": str,
    "content_hash": str,
    "first_seen_at": str,
    "last_seen_at": str,
}
# name -> (columns, primary key)
TABLES: dict[str, tuple[dict[str, type], str | tuple[str, ...]]] = {
    "newspapers": ({"slug": str, "name": str, "province": str, "city": str, "article_count": int}, "slug"),
    "revisions": (
        {
            "id": int,
            "info_code": str,
            "title": str,
            "body_html": str,
            "content_hash": str,
            "seen_at": str,
            "replaced_at": str,
        },
        "id",
    ),
    "crawls": (
        {
            "id": int,
            "spider": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "reason": str,
            "articles_new": int,
            "articles_changed": int,
            "articles_unchanged": int,
            "articles_skipped": int,
            "articles_dropped": int,
            "requests": int,
            "retries": int,
            "errors": int,
            "duration_seconds": float,
        },
        "id",
    ),
    # One row per distinct (kind, market, code) mention of an article: its current
    # version's (cleaning/mentions.py); published_at copied so "articles mentioning CODE,
    # newest first" is one index walk.
    "mentions": (
        {"info_code": str, "kind": str, "market": str, "code": str, "name": str, "exchange": str, "published_at": str},
        ("info_code", "kind", "market", "code"),
    ),
}
# Index choice is driven by the queries Datasette runs. doc_id follows the publication
# order (see doc_id_base), so the search index (whose rowid is doc_id) lists matches
# newest first by itself, and a search reads only as many matches as it shows (see
# search.py). Facets with a search use the (newspaper, doc_id) and (published_date,
# doc_id) covering indexes.
INDEXES = {
    "articles": [
        ["published_at", "doc_id"],
        ["slug", "published_at"],
        ["newspaper", "doc_id"],
        ["published_date", "doc_id"],
        ["last_seen_at"],
    ],
    "revisions": [["info_code", "seen_at"], ["replaced_at"]],
    "crawls": [["spider", "started_at"]],
    "mentions": [["code", "published_at"], ["name", "published_at"]],
}
# Indexes of earlier versions that the planner must no longer see.
DROPPED_INDEXES = ["idx_articles_doc_id", "idx_articles_published_at", "idx_articles_published_date_slug"]
DOC_ID_INDEX = "idx_articles_doc_id_unique"


#: doc_id = the publication time in Unix seconds, or the first free integer after it
#: (articles published in the same second take the following ones): ordering by doc_id
#: is ordering by publication time, to the second, as it was when the article was first
#: archived (the id never changes). Seconds, not seconds × a number of slots: the search
#: index stores each posting's distance to the previous doc_id as a varint, so sparser
#: ids make it larger (measured on 20,000 synthetic articles: see README).
def doc_id_base(published_at: datetime | str) -> int:
    """The smallest doc_id of an article published at ``published_at`` (a datetime, or
    ISO 8601 as stored; a time without an offset is Beijing time)::

        >>> doc_id_base("2021-12-23T07:25:33+08:00")
        1640215533
    """
    moment = published_at if isinstance(published_at, datetime) else datetime.fromisoformat(published_at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return int(moment.timestamp())


def iso(value: Any) -> Any:
    """A datetime as ISO 8601 text; any other value (text, a number, None) as it is."""
    return value.isoformat() if isinstance(value, datetime) else value


def check_file(path: Path) -> None:
    """Cheap checks of a database file before it is used, in time independent of its
    size: the SQLite header, and no page missing that the header counts (a file cut short
    reads as "malformed" only when a query reaches the lost pages). A page beyond the end
    of the file is missing only when the write-ahead log does not hold it either: after a
    checkpoint cut short (a full disk), the header already counts pages that are still
    only in the WAL, and SQLite reads them from there: such a file is healthy."""
    size = path.stat().st_size
    if size == 0:
        return  # an empty file is a new database
    with open(path, "rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        raise ArchiveDamaged("not an SQLite database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise ArchiveDamaged(f"not an SQLite database (page size {page_size})")
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96]  # the page count is valid for this change counter
    if not (valid and pages and size < pages * page_size):
        return
    beyond = range(size // page_size + 1, pages + 1)  # the pages past the end of the file
    in_wal = wal_pages(Path(f"{path}-wal"), page_size)
    if len(beyond) > len(in_wal) or any(p not in in_wal for p in beyond):
        raise ArchiveDamaged(
            f"truncated: {size} bytes, its header says {pages * page_size}, and its write-ahead log does not "
            f"hold the {len(beyond)} pages past the end"
        )


_WAL_MAGIC = (0x377F0682, 0x377F0683)


def wal_pages(wal: Path, page_size: int) -> set[int]:
    """The page numbers a write-ahead log holds in committed frames of its current
    generation (the frames whose salts are the header's, up to the last commit frame);
    empty when there is no WAL or it does not match ``page_size``. Reads the frame
    headers only."""
    try:
        f = open(wal, "rb")
    except FileNotFoundError:
        return set()
    with f:
        header = f.read(32)
        if len(header) < 32 or int.from_bytes(header[:4], "big") not in _WAL_MAGIC:
            return set()
        if int.from_bytes(header[8:12], "big") != page_size:
            return set()
        salts = header[16:24]
        committed: set[int] = set()
        pending: set[int] = set()
        offset = 32
        while True:
            f.seek(offset)
            frame = f.read(24)
            if len(frame) < 24 or frame[8:16] != salts:
                break
            pending.add(int.from_bytes(frame[:4], "big"))
            if int.from_bytes(frame[4:8], "big"):  # a commit frame: the transaction is whole
                committed |= pending
                pending = set()
            offset += 24 + page_size
        return committed


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the archive's database at ``path`` (searches, the reading
    site, exports): it never creates, migrates or writes. ``FileNotFoundError`` if there is
    no file; :class:`ArchiveDamaged` for a file that is not a readable archive."""
    if not path.is_file():
        raise FileNotFoundError(path)
    check_file(path)
    from urllib.request import pathname2url

    return sqlite3.connect(f"file:{pathname2url(str(path.resolve()))}?mode=ro", uri=True, check_same_thread=False)


class Prepared(NamedTuple):
    """What :meth:`ArchiveDatabase.prepare` computes of an article before the write lock."""

    row: dict  # the articles row (times as ISO 8601)
    tokens: tuple[str, str] | None  # the search index's tokens (None: unchanged, its entry stays)
    mentions: list[dict] | None  # its mentions (None: leave them as they are)
    doc_id_base: int  # its publication second (see doc_id_base)


class ArchiveDatabase:
    """``finews.db``: open (creating or upgrading it) with ``ArchiveDatabase(path)``.

    The connection may be used from one thread at a time, whichever (the archive's
    writer thread). ``on_reindex(n)`` is called before a migration rebuilds the search
    index of ``n`` articles (it takes about a millisecond an article), to say so."""

    def __init__(self, path: str | Path, on_reindex=None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            check_file(self.path)
        self.conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        try:
            self._use_wal()
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.db = sqlite_utils.Database(self.conn)
            self.migrated_missing: list[str] = []
            self.migrate(on_reindex)
        except BaseException:
            self.conn.close()
            raise

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
    def missing_tables(self) -> list[str]:
        """The tables of the schema that the file lacks (one query of sqlite_master)."""
        have = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return [t for t in ["articles", *TABLES, "finews_meta", FTS_TABLE] if t not in have]

    def _current(self) -> bool:
        return (
            self.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            and not self.missing_tables()
            and self._index_version() == INDEX_VERSION
        )

    def _index_version(self) -> int | None:
        """The :data:`~finews_spider.search.INDEX_VERSION` the index was built with
        (``None``: not recorded, or no ``finews_meta`` table yet)."""
        try:
            row = self.conn.execute("SELECT value FROM finews_meta WHERE key='index_version'").fetchone()
        except sqlite3.OperationalError:  # no such table: an archive being created
            return None
        return row[0] if row else None

    def migrate(self, on_reindex=None) -> None:
        """Create what is missing and upgrade an archive written by an older version:
        new columns are added, empty derived columns of old rows filled in, doc_ids
        renumbered in publication order, the ``body_text`` column of versions before 6
        dropped, and the search index rebuilt when its content changed (see
        :data:`~finews_spider.search.INDEX_VERSION`). An archive already at
        ``SCHEMA_VERSION`` with every table is left alone (no scan on every open); a
        table that went missing is created again (and named in ``migrated_missing``, for
        the caller to warn about)."""
        if self._current():
            return
        with self._transaction():
            if self._current():
                return  # another process upgraded it while we waited for the lock
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            if version:
                self.migrated_missing = self.missing_tables()
            if "articles" in self.migrated_missing and "mentions" not in self.migrated_missing:
                self.conn.execute("DELETE FROM mentions")  # the rows were lost: so is what they mention
            articles = self.db.table("articles")
            if not articles.exists():
                articles.create(ARTICLE_COLUMNS, pk="info_code")
            else:
                missing = [c for c in ARTICLE_COLUMNS if c not in articles.columns_dict]
                for column in missing:
                    articles.add_column(column, ARTICLE_COLUMNS[column])
            for name, (columns, pk) in TABLES.items():
                table = self.db.table(name)
                if not table.exists():
                    table.create(columns, pk=pk)
                else:
                    for column, kind in columns.items():
                        if column not in table.columns_dict:
                            table.add_column(column, kind)
            for name in DROPPED_INDEXES:
                self.conn.execute(f"DROP INDEX IF EXISTS {name}")
            self.conn.execute("CREATE TABLE IF NOT EXISTS finews_meta (key TEXT PRIMARY KEY, value INTEGER)")
            stale_index = self._index_version() != INDEX_VERSION
            if stale_index and FTS_TABLE in self.db.table_names():
                self.conn.execute(f"DROP TABLE {FTS_TABLE}")  # made again: its tokenizer may have changed
            if FTS_TABLE not in self.db.table_names():
                # Contentless: the index only; the text is derived from body_html (see _index).
                self.conn.execute(f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({FTS_COLUMNS})")
                try:  # stored in the table: every writer uses it
                    self.conn.execute(
                        f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rank) VALUES ('hashsize', ?)", (FTS_HASHSIZE,)
                    )
                except sqlite3.OperationalError:
                    pass  # an SQLite without the option: its default, only slower
            self._backfill()
            if version < 6 or self.migrated_missing or stale_index:
                self._reindex(renumber=version < 6, on_reindex=on_reindex)
            self.conn.execute("DELETE FROM finews_meta WHERE key='last_doc_id'")  # the counter of versions before 6
            if "region" in self.db["newspapers"].columns_dict:
                # Province and city, kept apart since version 7, are filled from the registry on open.
                self.conn.execute("ALTER TABLE newspapers DROP COLUMN region")
            if "body_text" in self.db["articles"].columns_dict:
                # Derived from body_html when needed (snippets, exports): 29% of the archive.
                self.conn.execute("ALTER TABLE articles DROP COLUMN body_text")
            self.db.table("articles").create_index(["doc_id"], index_name=DOC_ID_INDEX, unique=True, if_not_exists=True)
            for table_name, indexes in INDEXES.items():
                for index_columns in indexes:
                    self.db.table(table_name).create_index(index_columns, if_not_exists=True)
            self.conn.execute(
                "UPDATE articles SET published_date=substr(published_at, 1, 10) WHERE published_date IS NULL"
            )
            self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # what the Datasette plugin recognizes
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _backfill(self) -> None:
        """Fill the columns an older archive may lack (hashes, seen times) and every paper's count."""
        rows = self.conn.execute(
            "SELECT info_code, title, body_html, fetched_at, content_hash, first_seen_at FROM articles "
            "WHERE content_hash IS NULL OR first_seen_at IS NULL"
        ).fetchall()
        for code, title, body, fetched, chash, first in rows:
            self.conn.execute(
                "UPDATE articles SET content_hash=?, first_seen_at=?, last_seen_at=COALESCE(last_seen_at, ?) WHERE info_code=?",
                (chash or content_hash(title or "", body or ""), first or fetched, fetched, code),
            )
        # Every paper of an article is a row of newspapers, with its count.
        self.conn.execute(
            "INSERT OR IGNORE INTO newspapers (slug, name, article_count) SELECT slug, max(newspaper), 0 FROM articles GROUP BY slug"
        )
        self.conn.execute(
            "UPDATE newspapers SET article_count=(SELECT count(*) FROM articles WHERE slug=newspapers.slug)"
        )

    def _reindex(self, renumber: bool, on_reindex=None, chunk: int = 500) -> None:
        """Rebuild the search index from the rows (in the open transaction); with
        ``renumber``, first give every article its doc_id in publication order (oldest
        first, ties by info_code). Reads the bodies ``chunk`` rows at a time."""
        order = self.conn.execute("SELECT rowid FROM articles ORDER BY published_at, info_code").fetchall()
        if on_reindex is not None and order:
            on_reindex(len(order))
        self.conn.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('delete-all')")
        last = -(2**62)
        if renumber:
            self.conn.execute("UPDATE articles SET doc_id=NULL")
        for i in range(0, len(order), chunk):
            rowids = [r[0] for r in order[i : i + chunk]]
            rows = self.conn.execute(
                f"SELECT rowid, doc_id, title, body_html, published_at FROM articles WHERE rowid IN "
                f"({','.join('?' * len(rowids))})",
                rowids,
            ).fetchall()
            by_rowid = {r[0]: r[1:] for r in rows}
            for rowid in rowids:
                doc_id, title, body, published = by_rowid[rowid]
                if renumber:  # in publication order: the next free id is after the last one given
                    doc_id = last = max(doc_id_base(published), last + 1)
                    self.conn.execute("UPDATE articles SET doc_id=? WHERE rowid=?", (doc_id, rowid))
                elif doc_id is None:
                    doc_id = self._new_doc_id(doc_id_base(published))
                    self.conn.execute("UPDATE articles SET doc_id=? WHERE rowid=?", (doc_id, rowid))
                self._index(doc_id, title, body)
        self.conn.execute(
            "INSERT OR REPLACE INTO finews_meta (key, value) VALUES ('index_version', ?)", (INDEX_VERSION,)
        )

    def transaction(self):
        """``with db.transaction():`` one write transaction (joins an open one)."""
        return _Transaction(self.conn)

    _transaction = transaction

    # -- newspapers -------------------------------------------------------------------
    def sync_newspapers(self, papers: Iterable) -> None:
        """Upsert the registry (slug, name, province, city) without touching the counts.
        A paper of a province's own has no city (NULL)."""
        with self._transaction():
            for paper in papers:
                self._ensure_newspaper(paper.slug, paper.name, paper.province or None, paper.city or None)

    def _ensure_newspaper(self, slug: str, name: str, province: str | None = None, city: str | None = None) -> None:
        self.conn.execute(
            "INSERT INTO newspapers (slug, name, province, city, article_count) VALUES (?, ?, ?, ?, 0) "
            "ON CONFLICT(slug) DO UPDATE SET name=excluded.name, "
            "province=COALESCE(excluded.province, newspapers.province), city=COALESCE(excluded.city, newspapers.city)",
            (slug, name, province, city),
        )

    def known_slug(self, name: str, registry) -> str | None:
        """The slug newspaper ``name`` already has (registry or archive), else None."""
        paper = registry.by_name.get(name)
        if paper is not None:
            return paper.slug
        row = self.conn.execute("SELECT slug FROM newspapers WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def slug_for(self, name: str, registry) -> str:
        """The slug of newspaper ``name``: the registry's, else the one the archive gave it
        before, else a new unique one (recorded at once). Call it inside the transaction
        that writes the articles, so two runs never give one slug to two papers."""
        paper = registry.by_name.get(name)
        if paper is not None:
            return paper.slug
        row = self.conn.execute("SELECT slug FROM newspapers WHERE name=?", (name,)).fetchone()
        if row is not None:
            return row[0]
        slug = registry.unregistered_slug(
            name, lambda s: self.conn.execute("SELECT 1 FROM newspapers WHERE slug=?", (s,)).fetchone() is not None
        )
        self._ensure_newspaper(slug, name)
        return slug

    def archived_versions(
        self, codes: list[str], columns: tuple[str, ...] = ("title", "published_at")
    ) -> dict[str, tuple]:
        """``info_code -> (title, published_at)`` of the archived ones among ``codes``
        (or the values of other ``columns`` of the articles table)."""
        bad = [c for c in columns if c not in ARTICLE_COLUMNS]
        if bad:
            raise ValueError(f"not a column of articles: {bad}")
        out: dict[str, tuple] = {}
        for i in range(0, len(codes), 500):
            chunk = codes[i : i + 500]
            out.update(
                (row[0], tuple(row[1:]))
                for row in self.conn.execute(
                    f"SELECT info_code, {', '.join(columns)} FROM articles WHERE info_code IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
            )
        return out

    def slugs(self) -> set[str]:
        """Every slug of the newspapers table (the registry's and those given to others)."""
        return {row[0] for row in self.conn.execute("SELECT slug FROM newspapers")}

    def slugs_with_articles(self) -> set[str]:
        """The slugs of the papers that have at least one archived article."""
        return {row[0] for row in self.conn.execute("SELECT DISTINCT slug FROM articles")}

    def set_cache_size(self, kib: int) -> None:
        """The page cache of this connection (only), in KiB: a bulk writer's is larger."""
        self.conn.execute(f"PRAGMA cache_size=-{int(kib)}")

    def iter_versions(self):
        """``(info_code, title, published_at)`` of every archived article."""
        return iter(self.conn.execute("SELECT info_code, title, published_at FROM articles").fetchall())

    def _add_to_count(self, slug: str, delta: int) -> None:
        """Keep a paper's article count current in the write's transaction (counted in
        full only by a migration: a count per new article would grow with the paper)."""
        self.conn.execute("UPDATE newspapers SET article_count = article_count + ? WHERE slug=?", (delta, slug))

    # -- articles ---------------------------------------------------------------------
    def get(self, info_code: str, columns: str = "*") -> dict | None:
        """The article's row (only ``columns``, comma-separated, if given), or None."""
        cursor = self.conn.execute(f"SELECT {columns} FROM articles WHERE info_code=?", (info_code,))
        row = cursor.fetchone()
        return dict(zip([d[0] for d in cursor.description], row)) if row else None

    def save_article(self, article: Mapping, seen_at: datetime | str) -> str:
        """Insert or update one article; returns ``new``, ``changed`` or ``unchanged``.

        A changed title or body keeps the previous version in ``revisions``."""
        return self.save_articles([article], seen_at)[0]["status"]

    def save_articles(self, articles: Iterable[Mapping], seen_at: datetime | str) -> list[dict]:
        """Save several articles in one transaction (all or none); for each, in order, the
        columns the database decided: ``status`` (``new``, ``changed`` or ``unchanged``),
        ``doc_id``, ``published_date``, ``first_seen_at``, ``last_seen_at``.

        Each article carries every column it is stored with, ``content_hash`` and
        ``slug`` included (cleaning and the archive decide them; storage stores them).
        The search index holds ``search.document_tokens`` of the title and body."""
        prepared = self.prepare(articles)
        with self._transaction():
            return self.save_prepared(prepared, seen_at)

    @staticmethod
    def prepare(articles: Iterable[Mapping], archived_hashes: Mapping[str, str] | None = None) -> list[Prepared]:
        """Rows and search tokens of ``articles``: everything that needs no database, to
        compute before the write lock is taken, so concurrent writers wait less. An
        article whose ``content_hash`` is its archived one (``archived_hashes``: info_code
        -> content hash) gets no tokens: it is unchanged, its index entry stays. The body's
        plain text is the article's ``body_text`` (computed once, by cleaning) when it
        carries one."""
        prepared = []
        for article in articles:
            row = {c: iso(article.get(c)) for c in ARTICLE_COLUMNS if c in article}
            row["published_date"] = row["published_at"][:10]  # Beijing date: the value carries +08:00
            if row.get("content_hash") is None:
                raise ValueError(f"article {row.get('info_code')!r} has no content_hash")
            mentions = article.get("mentions")
            unchanged = archived_hashes is not None and archived_hashes.get(row["info_code"]) == row["content_hash"]
            tokens = (
                None if unchanged else document_tokens(row["title"], row.get("body_html"), article.get("body_text"))
            )
            prepared.append(
                Prepared(
                    row,
                    tokens,
                    None if mentions is None else [dict(m) for m in mentions],
                    doc_id_base(article["published_at"]),
                )
            )
        return prepared

    def save_prepared(self, prepared: list[Prepared], seen_at: datetime | str) -> list[dict]:
        """Save prepared rows (see :meth:`prepare`) in the open transaction, or in one of
        their own. Each row needs its ``slug`` by now."""
        seen: str = iso(seen_at)
        with self._transaction():
            results = []
            for row, tokens, mentions, base in prepared:
                if not row.get("slug"):
                    raise ValueError(f"article {row.get('info_code')!r} has no slug")
                results.append(self._save(row, tokens, seen, base))
                if mentions is not None:
                    self._set_mentions(row["info_code"], row["published_at"], mentions)
            return results

    def _save(self, row: dict, tokens: tuple[str, str] | None, seen: str, base: int) -> dict:
        old = self.conn.execute(
            "SELECT doc_id, title, body_html, content_hash, slug, first_seen_at, last_seen_at "
            "FROM articles WHERE info_code=?",
            (row["info_code"],),
        ).fetchone()
        if old is None:
            status, row["doc_id"], row["first_seen_at"] = "new", self._new_doc_id(base), seen
        else:
            doc_id, old_title, old_body, old_hash, old_slug, first_seen, last_seen = old
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
                self._unindex(row["doc_id"], old_title, old_body)
            if tokens is None:  # prepared as unchanged, but another run changed it since
                tokens = document_tokens(row["title"], row.get("body_html"))
            self._insert_tokens(row["doc_id"], *tokens)
        if old is None or old_slug != row["slug"]:
            self._ensure_newspaper(row["slug"], row["newspaper"])
            self._add_to_count(row["slug"], 1)
            if old is not None:
                self._add_to_count(old_slug, -1)
        return {
            "status": status,
            "doc_id": row["doc_id"],
            "published_date": row["published_date"],
            "first_seen_at": row["first_seen_at"],
            "last_seen_at": row["last_seen_at"],
        }

    def _set_mentions(self, info_code: str, published_at: str, mentions: list[dict]) -> None:
        """The article's mentions become exactly ``mentions`` (those of its current version)."""
        self.conn.execute("DELETE FROM mentions WHERE info_code=?", (info_code,))
        self.conn.executemany(
            "INSERT OR IGNORE INTO mentions (info_code, kind, market, code, name, exchange, published_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (info_code, m["kind"], m["market"], m["code"], m.get("name"), m.get("exchange"), published_at)
                for m in mentions
            ],
        )

    def _new_doc_id(self, base: int) -> int:
        """The doc_id of a new article: the first free one from ``base``, its publication
        second (:func:`doc_id_base`), so doc_ids follow the publication order."""
        doc_id = base
        while self.conn.execute("SELECT 1 FROM articles WHERE doc_id=?", (doc_id,)).fetchone():
            doc_id += 1
        return doc_id

    def _index(self, doc_id: int, title: str | None, body_html: str | None) -> None:
        self._insert_tokens(doc_id, *document_tokens(title, body_html))

    def _insert_tokens(self, doc_id: int, title_tokens: str, body_tokens: str) -> None:
        self.conn.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, title, body_text) VALUES (?, ?, ?)", (doc_id, title_tokens, body_tokens)
        )

    def _unindex(self, doc_id: int, title: str | None, body_html: str | None) -> None:
        """Remove a version from the contentless index: FTS5 needs the tokens it indexed,
        which ``document_tokens`` makes again from the stored title and body."""
        self.conn.execute(
            f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, title, body_text) VALUES ('delete', ?, ?, ?)",
            (doc_id, *document_tokens(title, body_html)),
        )

    def newest(self, slug: str | None = None, limit: int = 50) -> list[dict]:
        """The ``limit`` newest articles (of the paper ``slug``, or of all), newest first:
        ``info_code``, ``title``, ``published_at``, ``newspaper``, ``slug``, ``share_url``
        (one walk of the (slug, published_at) or (published_at, doc_id) index)."""
        cursor = self.conn.execute(
            "SELECT info_code, title, published_at, newspaper, slug, share_url FROM articles"
            + (" WHERE slug = ?" if slug else "")
            + " ORDER BY published_at DESC LIMIT ?",
            (slug, limit) if slug else (limit,),
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def iter_articles(self, where: str | None = None, params: tuple = ()) -> Iterator[dict]:
        sql = "SELECT * FROM articles" + (f" WHERE {where}" if where else "") + " ORDER BY published_at, info_code"
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        for row in cursor:
            yield dict(zip(names, row))

    # -- crawls -----------------------------------------------------------------------
    def record_crawl(self, crawl: Mapping) -> None:
        with self._transaction():
            self.db.table("crawls").insert(dict(crawl))


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
