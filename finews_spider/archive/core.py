"""The storage core: the data folder of one archive, its lock, its database, and the order
in which a batch is recorded.

:class:`Archive` writes nothing but the database itself; everything else that lives in
the data folder is written by its **sinks** (``FINEWS_SINKS``: name -> class, the way
Scrapy's ``FEED_EXPORTERS`` maps formats to classes), which subscribe to a batch:

1. the slugs of its papers are decided (a paper missing from the registry gets its slug
   in a short transaction of its own, so two runs never give one slug to two papers);
2. each sink's :meth:`Sink.write` writes what must be on disk before the rows (the posts),
   then one ``syncfs`` flushes them;
3. the rows are committed in one transaction;
4. each sink's :meth:`Sink.committed` writes what follows from the committed rows (the
   Atom feeds, the reading site).

The database is what later runs consult, so a run killed between 2 and 3 fetches the
article again instead of leaving a row without its post. Commands that need no crawl
open an :class:`Archive` directly; in a crawl, ``extensions.archive.ArchiveExtension``
runs it on a writer thread of its own.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from ..config import FinewsConfig
from ..exceptions import ArchiveUnusable
from ..files import remove_stale_temporaries, sync_filesystem
from ..registry import Registry
from .database import ArchiveDatabase
from .lock import RunLock
from .sinks import Sink

logger = logging.getLogger(__name__)


def load_sink(path: str) -> type[Sink]:
    """The sink class at ``path`` (``package.module.Class``), as ``FINEWS_SINKS`` names it."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class Archive:
    """The data folder of one archive, as ``config`` (:class:`FinewsConfig`) places it.

    ``lock_name``: hold ``<data>/.locks/<lock_name>.lock`` while open (one run of that
    name at a time). Close it with :meth:`close`."""

    def __init__(self, config: FinewsConfig, *, lock_name: str | None = None, registry: Registry | None = None):
        self.config = config
        self.root = config.data_dir
        self.registry = registry or Registry.load()
        self.lock: RunLock | None = None
        self.db: ArchiveDatabase | None = None
        self.sinks: dict[str, Sink] = {}
        self._opened: dict[Path, tuple[int, int] | None] = {}
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if lock_name:
                self.lock = RunLock(self.root / ".locks" / f"{lock_name}.lock", lock_name)
            if "sqlite" in config.exporters:
                self.db = self._open_database()
            for name, path in config.sinks.items():
                sink = load_sink(path).from_archive(self)
                if sink is not None:
                    self.sinks[name] = sink
            folders = [self.root, *(folder for sink in self.sinks.values() for folder in sink.folders)]
            for stale in remove_stale_temporaries(folders):
                logger.warning("removed a temporary file left by a killed run: %s", stale)
            self._opened = {path: _identity(path) for path in self._owned_paths()}
        except BaseException:
            self.close()
            raise

    def _owned_paths(self) -> list[Path]:
        return [self.root] + ([self.config.database_path] if self.db is not None else [])

    def check_in_place(self) -> None:
        """Raise :class:`ArchiveUnusable` when the data folder or the database file this
        archive opened is gone or replaced (removed mid-run): whatever is written after
        that would land in a deleted file or a new empty folder, and be lost or half an
        archive. Checked before each batch is written and each ``crawls`` row recorded."""
        for path, opened in self._opened.items():
            if _identity(path) != opened:
                raise ArchiveUnusable(
                    f"{path} was removed or replaced while the run was going: nothing more is "
                    f"recorded by this run; the next run completes the archive"
                )

    def _open_database(self) -> ArchiveDatabase:
        path = self.config.database_path
        try:
            db = ArchiveDatabase(
                path,
                on_reindex=lambda n: logger.warning(
                    "the archive database %s is being upgraded: its search index of %d articles is rebuilt "
                    "(about a millisecond an article, once)",
                    path,
                    n,
                ),
            )
            try:
                db.sync_newspapers(self.registry.papers)
            except BaseException:
                db.close()
                raise
        except Exception as exc:  # sqlite3.DatabaseError, OSError (a full disk too): both end the run here
            raise ArchiveUnusable(damaged_advice(path, exc, self.root / "_posts", self.config.warc_dir)) from exc
        if db.migrated_missing:
            logger.warning(
                "the archive database %s lacked %s: created again; this run completes the archive",
                path,
                ", ".join(db.migrated_missing),
            )
        return db

    def close(self) -> None:
        """Close the database and release the lock (idempotent)."""
        if self.db is not None:
            self.db.close()
            self.db = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    # -- what callers ask -----------------------------------------------------------------
    @property
    def remembers(self) -> bool:
        """Whether the archive knows what it holds (it has a database)."""
        return self.db is not None

    def archived_versions(self, codes: list[str]) -> dict[str, tuple[str, str]]:
        """``info_code -> (title, published_at ISO)`` of the archived ones among ``codes``.
        An article whose files a sink lacks (its post was deleted) is not archived,
        whatever the database says: it is fetched again, and its files written again."""
        versions = self.db.archived_versions(codes) if self.db is not None else {}
        for sink in self.sinks.values():
            for code in sink.lacks(list(versions)):
                logger.warning(
                    "article %s is in the database but its %s files are missing: fetching it again", code, sink.name
                )
                versions.pop(code, None)
        return versions

    def iter_versions(self) -> Iterator[tuple[str, str, str]]:
        """``(info_code, title, published_at ISO)`` of every archived article."""
        return self.db.iter_versions() if self.db is not None else iter(())

    def description(self, info_code: str) -> dict | None:
        """What the archive knows of an article as a feed would list it: ``title``,
        ``datetime`` (ISO, Beijing time), ``newspaper``; ``None`` when not archived."""
        if self.db is None:
            return None
        known = self.db.archived_versions([info_code], ("title", "published_at", "newspaper")).get(info_code)
        return None if known is None else dict(zip(("title", "datetime", "newspaper"), known))

    def publish_batch(self, articles: list[dict], seen_at: datetime) -> list[dict]:
        """Record a batch of cleaned articles (see the module for the order). For each
        article, in order: its ``slug``, ``status`` (new, changed, unchanged) and, with the
        database, ``doc_id``, ``published_date``, ``first_seen_at``, ``last_seen_at``."""
        self.check_in_place()
        if self.db is None:  # the files are the whole archive: their sinks say what changed
            for article in articles:
                article["slug"] = self.registry.paper_for(article["newspaper"]).slug
            statuses = self._write(articles)
            return [{"slug": a["slug"], "status": s} for a, s in zip(articles, statuses)]
        archived = self.db.archived_versions([a["info_code"] for a in articles], ("content_hash",))
        prepared = self.db.prepare(articles, {code: version[0] for code, version in archived.items()})
        slugs = self._slugs({a["newspaper"] for a in articles})
        for article, item in zip(articles, prepared):
            item.row["slug"] = article["slug"] = slugs[article["newspaper"]]
        self._write(articles)
        with self.db.transaction():
            saved = self.db.save_prepared(prepared, seen_at)
            self.check_in_place()  # removed while this batch was written: rolled back
        results = [{"slug": a["slug"], **r} for a, r in zip(articles, saved)]
        self.committed(articles, results)
        return results

    def _write(self, articles: list[dict]) -> list[str]:
        """Every sink's files of ``articles``, flushed to disk by one ``syncfs`` when any
        changed; the statuses the files give (new / changed / unchanged)."""
        statuses = ["new"] * len(articles)
        changed = False
        for sink in self.sinks.values():
            said = sink.write(articles)
            if said is not None:
                statuses = said
                changed = changed or any(s != "unchanged" for s in said)
        if changed and self.db is not None:
            sync_filesystem(self.root)  # the files are on disk before their rows
        return statuses

    def committed(self, articles: Sequence[Mapping], results: Sequence[Mapping]) -> None:
        """Tell every sink that these articles' rows are committed (``results``: what the
        database decided of each, ``status`` among them)."""
        for sink in self.sinks.values():
            sink.committed(articles, results)

    def _slugs(self, names: set[str]) -> dict[str, str]:
        """The slug of each paper name (see :meth:`ArchiveDatabase.slug_for`); the write
        lock is taken only when a paper is new to the archive."""
        db = self.db
        assert db is not None, "slugs are the database's"  # publish_batch calls this only with one
        out = {}
        for name in names:
            known = db.known_slug(name, self.registry)
            if known is None:
                with db.transaction():
                    known = db.slug_for(name, self.registry)
            out[name] = known
        return out

    def record_crawl(self, row: Mapping) -> bool:
        """Add a ``crawls`` row (:func:`finews_spider.run.crawls_row`); False when there
        is no database to hold it."""
        if self.db is None:
            return False
        self.check_in_place()
        self.db.record_crawl(row)
        return True

    def iter_articles(self) -> Iterator[dict]:
        """Every archived row, oldest first."""
        if self.db is None:
            return iter(())
        return self.db.iter_articles()

    def rebuild(self) -> tuple[int, int]:
        """Write every sink's files again from the database (``scrapy rebuild``): the posts,
        the category pages, the feeds. Returns (articles whose files were written,
        articles whose files were already identical)."""
        if self.db is None:
            raise ArchiveUnusable("rebuilding needs the database (FINEWS_EXPORTERS must include sqlite)")
        written = same = 0
        for row in self.db.iter_articles():
            row["published_at"] = datetime.fromisoformat(row["published_at"])
            statuses = [sink.write([row]) for sink in self.sinks.values()]
            if any(s is not None and s[0] != "unchanged" for s in statuses):
                written += 1
            else:
                same += 1
        sync_filesystem(self.root)
        for sink in self.sinks.values():
            sink.refresh(self.db.slugs_with_articles())
        return written, same


def damaged_advice(path: Path, error: BaseException, posts: Path, warc: Path) -> str:
    """The one line a database that cannot be used gets: what happened, and the ways back,
    least destructive first."""
    return (
        f"the archive database {path} cannot be used ({type(error).__name__}: {error}). If the disk is full, free "
        f"space and run again. Else keep the file and recover what it holds: restore it from a backup, or "
        f"`sqlite3 {path} .recover | sqlite3 recovered.db` and put recovered.db in its place. Only as a last "
        f"resort rebuild it from the posts and the WARC files (scrapy import {posts} && scrapy reextract {warc}): "
        f"that loses the revisions, the crawls history and every article's first_seen_at"
    )


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of ``path``, or None when it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino
