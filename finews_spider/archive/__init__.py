"""The archive: the one owner of the data folder.

Everything under ``FINEWS_DATA_DIR`` (the database, posts, category pages, site files,
WARC files, locks) is written by :class:`Archive` and nothing else. Pipelines,
middlewares, extensions and commands ask it, with methods named for what they need:

- :meth:`Archive.archived_versions`: which of these articles are archived, and as what
  (title, date): the skip middleware decides from it what to fetch again;
- :meth:`Archive.publish`: record this article (batched: one step flushes the batch's
  posts to disk, then commits their rows, in one transaction that also decides the
  slugs of papers missing from the registry);
- :meth:`Archive.import_posts`: record articles read from the posts of a Jekyll archive
  (``scrapy import``): their posts copied or rewritten, old category URLs redirected;
- :meth:`Archive.cached_feed` / :meth:`Archive.store_feed`: the feed cache
  (``<data>/.feeds/``, ``FINEWS_FEED_TTL``), shared by every run on this data folder;
- :meth:`Archive.description`: what the archive knows of an article as a feed lists it
  (share links whose text does not say);
- :meth:`Archive.record_crawl`: the ``crawls`` row of a run;
- :meth:`Archive.warc_writer`: where this run's captures go.

In a crawl it is a Scrapy extension (``EXTENSIONS``), found by the other components with
``crawler.get_extension(Archive)``; every blocking call (SQLite, file writes, ``syncfs``)
runs on one writer thread of its own, never on the reactor thread. Commands that need no
crawl (``rebuild``, ``import``, …) open it with :meth:`Archive.open` and call the
synchronous methods.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from scrapy import signals

from ..config import FinewsConfig, config_for
from ..exceptions import ArchiveUnusable
from ..exporters import atom as feeds
from ..exporters import jekyll
from ..registry import Registry
from .database import ArchiveDamaged, ArchiveDatabase, open_read_only
from .files import remove_stale_temporaries, sync_filesystem, write_atomic
from .lock import RunLock

logger = logging.getLogger(__name__)

__all__ = ["Archive", "ArchiveDamaged", "ArchiveDatabase", "open_read_only"]
FEED_DIR = "feed"  # data/feed/<slug>.xml and data/feed/all.xml
FEED_SIZE = 50  # articles per feed

# SQLite's page cache while importing, in KiB: a batch of 1,000 articles writes about 25 MB
# of pages, and with the 2 MB default the index pages are spilled to the WAL mid-batch,
# read back and written again (a third fewer page writes, two thirds fewer reads).
IMPORT_CACHE_KIB = 64 * 1024
FEED_CACHE_DIR = ".feeds"  # the feed cache (FINEWS_FEED_TTL): hidden, so Jekyll does not publish it


class Archive:
    """The data folder of one archive, as ``config`` (:class:`FinewsConfig`) places it.
    ``Archive(config)`` outside a crawl; in a crawl, the extension built ``from_crawler``.
    Close it with :meth:`close`."""

    def __init__(self, config: FinewsConfig, *, lock_name: str | None = None, registry: Registry | None = None):
        self.settings = settings = config
        self.root = settings.data_dir
        self.registry = registry or Registry.load()
        self.lock: RunLock | None = None
        self.db: ArchiveDatabase | None = None
        self.view = None  # a fleet worker's view of what the writer archived (RedisArchiveView)
        self.posts: _Posts | None = None
        self._opened: dict[Path, tuple[int, int] | None] = {}
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if lock_name:
                self.lock = RunLock(self.root / ".locks" / f"{lock_name}.lock", lock_name)
            for path in remove_stale_temporaries(
                [
                    self.root,
                    self.root / jekyll.POSTS_DIR,
                    self.root / jekyll.CATEGORY_DIR,
                    self.root / "_layouts",
                    self.root / FEED_DIR,
                    self.root / FEED_CACHE_DIR,
                ]
            ):
                logger.warning("removed a temporary file left by a killed run: %s", path)
            if "jekyll" in settings.exporters:
                self._ensure_site_files()
                # With the database on, a batch's posts are flushed by one syncfs before
                # its rows are committed; without it, every post is flushed as written.
                self.posts = _Posts(self.root, settings.site_url, fsync="sqlite" not in settings.exporters)
            if "sqlite" in settings.exporters:
                self.db = self._open_database()
            self._opened = {path: _identity(path) for path in self._owned_paths()}
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, settings, **kwargs) -> Archive:
        """The archive of Scrapy ``settings`` (or a :class:`FinewsConfig`), outside a crawl."""
        if not isinstance(settings, FinewsConfig):
            settings = FinewsConfig.from_settings(settings)
        return cls(settings, **kwargs)

    def _owned_paths(self) -> list[Path]:
        return [self.root] + ([self.settings.database_path] if self.db is not None else [])

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
        path = self.settings.database_path
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
            raise ArchiveUnusable(
                f"the archive database {path} cannot be used ({type(exc).__name__}: {exc}). If the disk is full, "
                f"free space and run again; else restore it from a backup, or move it aside and rebuild it from "
                f"the posts and the WARC files: scrapy import {self.root / jekyll.POSTS_DIR} && scrapy reextract "
                f"{self.settings.warc_dir}"
            ) from exc
        if db.migrated_missing:
            logger.warning(
                "the archive database %s lacked %s: created again; this run completes the archive",
                path,
                ", ".join(db.migrated_missing),
            )
        return db

    def _ensure_site_files(self) -> list[str]:
        """Write the minimal Jekyll config and layouts that are missing; never overwrite."""
        written = []
        for rel, text in jekyll.site_files().items():
            path = self.root / rel
            if not path.exists():
                write_atomic(path, text)
                written.append(rel)
        return written

    def stop_writer(self) -> None:
        """After a forced stop (the reactor gone, ``engine_stopped`` never sent): let the
        writer thread finish the batch it is writing (committed whole, or rolled back),
        then stop it, so the process can exit; batches not yet flushed are dropped (their
        articles are fetched again next run). The database stays open for the verdict."""
        crawl_side = getattr(self, "_crawl", None)
        if crawl_side is not None:
            crawl_side.stop()

    def close(self) -> None:
        """Close the database and release the lock (idempotent)."""
        if self.db is not None:
            self.db.close()
            self.db = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    # -- what callers ask (synchronous: call them on the writer thread in a crawl) ----------
    @property
    def remembers(self) -> bool:
        """Whether the archive knows what it holds (it has a database, or, on a fleet
        worker, the writer's view of it in Redis)."""
        return self.db is not None or self.view is not None

    def archived_versions(self, codes: list[str]) -> dict[str, tuple[str, str]]:
        """``info_code -> (title, published_at ISO)`` of the archived ones among ``codes``
        (on a fleet worker: as the writer last published them in Redis). An article whose
        post is missing from the folder is not archived, whatever the database says: it is
        fetched again, and its post written again."""
        if self.view is not None:
            return self.view.archived_versions(codes)
        versions = self.db.archived_versions(codes) if self.db is not None else {}
        if self.posts is not None:
            for code in [c for c in versions if c not in self.posts.by_code]:
                logger.warning("article %s is in the database but its post is missing: fetching it again", code)
                del versions[code]
        return versions

    def iter_versions(self) -> Iterator[tuple[str, str, str]]:
        """``(info_code, title, published_at ISO)`` of every archived article."""
        return self.db.iter_versions() if self.db is not None else iter(())

    def publish_batch(self, articles: list[dict], seen_at: datetime) -> list[dict]:
        """Record a batch of cleaned articles, in three steps: the slugs of their papers
        (a paper missing from the registry gets its slug in a transaction of its own that
        records it, so two runs never give one slug to two papers), their posts written and
        flushed to disk (one ``syncfs``, only if a post changed), then their rows committed
        in one transaction. The write lock is never held while files are written. For each
        article, in order: its ``slug``, ``status`` (new, changed, unchanged) and, with the
        database, ``doc_id``, ``published_date``, ``first_seen_at``, ``last_seen_at``."""
        self.check_in_place()
        if self.db is None:
            results = []
            for article in articles:
                article["slug"] = self.registry.paper_for(article["newspaper"]).slug
                results.append({"slug": article["slug"], "status": self.posts.write(article)})
            return results
        archived = self.db.archived_versions([a["info_code"] for a in articles], ("content_hash",))
        prepared = self.db.prepare(articles, {code: version[0] for code, version in archived.items()})
        slugs = self._slugs({a["newspaper"] for a in articles})
        for article, (row, *_tokens) in zip(articles, prepared):
            row["slug"] = article["slug"] = slugs[article["newspaper"]]
        if self.posts is not None:
            written = [self.posts.write(article) for article in articles]
            if any(status != "unchanged" for status in written):
                sync_filesystem(self.root)  # the posts are on disk before their rows
        with self.db.transaction():
            saved = self.db.save_prepared(prepared, seen_at)
            self.check_in_place()  # removed while this batch was written: rolled back
        if self.posts is not None:
            self.write_feeds({a["slug"] for a, r in zip(articles, saved) if r["status"] != "unchanged"})
        if self.settings.site_dir is not None:
            self._update_site([a["info_code"] for a, r in zip(articles, saved) if r["status"] != "unchanged"])
        return [{"slug": a["slug"], **r} for a, r in zip(articles, saved)]

    def _slugs(self, names: set[str]) -> dict[str, str]:
        """The slug of each paper name (see :meth:`ArchiveDatabase.slug_for`); the write
        lock is taken only when a paper is new to the archive."""
        out = {}
        for name in names:
            known = self.db.known_slug(name, self.registry)
            if known is None:
                with self.db.transaction():
                    known = self.db.slug_for(name, self.registry)
            out[name] = known
        return out

    def import_posts(self, entries: list[dict], seen_at: datetime, *, rewrite: bool = False) -> list[dict]:
        """Record articles read from the posts of a Jekyll archive (``scrapy import``).

        Each entry is ``{"article": …, "post": (file name, bytes) or None}``: the article
        as ``importing.import_article`` gives it (cleaned, with its ``legacy_slug``), and
        the post it came from when that post lies outside this archive's ``_posts/``
        (``None``: it is one of ours, left as it is). Such a post is copied into
        ``_posts/`` unchanged (same name, same bytes), or with ``rewrite`` written in
        today's format instead. The paper is found by its name (its slug is today's);
        its category page is written when missing, and its old category
        ``category/<legacy_slug>.html`` becomes a redirect to it, unless that name is a
        current paper's slug or an existing page that is not a redirect.

        An article archived with the same content, date and paper is ``unchanged`` and
        not written again (no revision, no new ``last_seen_at``); others are recorded
        as :meth:`publish_batch` records them (``new``, or ``changed`` with the previous
        version kept as a revision). Posts and pages are flushed to disk before the rows
        are committed. Returns, for each entry, its ``slug`` and ``status``."""
        if self.db is None or self.posts is None:
            raise ArchiveUnusable("importing needs the database and the posts (FINEWS_EXPORTERS=jekyll,sqlite)")
        self.db.set_cache_size(IMPORT_CACHE_KIB)
        articles = [entry["article"] for entry in entries]
        known = self.db.archived_versions(
            [a["info_code"] for a in articles], ("content_hash", "published_at", "slug", "newspaper")
        )
        prepared = [entry.get("prepared") or self.db.prepare([entry["article"]])[0] for entry in entries]
        results = []
        with self.db.transaction(), ThreadPoolExecutor(1, thread_name_prefix="finews-import") as files:
            current = self.db.slugs() | set(self.registry.by_slug)
            to_save = []
            for article, item in zip(articles, prepared):
                row = item[0]
                row["slug"] = article["slug"] = self.db.slug_for(article["newspaper"], self.registry)
                current.add(article["slug"])
                same = known.get(article["info_code"]) == (
                    row["content_hash"],
                    row["published_at"],
                    row["slug"],
                    row["newspaper"],
                )
                results.append({"slug": article["slug"], "status": "unchanged" if same else None})
                if not same:
                    to_save.append(item)
            # The files are written by one thread while the rows are inserted (more
            # threads only contend for the GIL); nothing is committed before they are
            # all on disk.
            writes = files.submit(self._write_imported_posts, entries, articles, rewrite)
            saved = iter(self.db.save_prepared(to_save, seen_at))
            writes.result()
            # One redirect per old slug: the last article filed under it decides, as
            # when each article wrote it in turn.
            for article in {a.get("legacy_slug"): a for a in articles}.values():
                self._write_legacy_redirect(article, current)
            sync_filesystem(self.root)  # the posts and pages are on disk before their rows
        for result in results:
            if result["status"] is None:
                result["status"] = next(saved)["status"]
        if self.settings.site_dir is not None:
            self._update_site([a["info_code"] for a, r in zip(articles, results) if r["status"] != "unchanged"])
        return results

    def _write_imported_posts(self, entries: list[Mapping], articles: list[Mapping], rewrite: bool) -> None:
        """The posts of imported articles, in order, and their papers' category pages."""
        pages: set[str] = set()  # slugs whose category page is there
        for entry, article in zip(entries, articles):
            post = entry.get("post")
            if post is not None and rewrite:
                self.posts.write(article)  # also writes the category page when missing
                continue
            if post is not None:
                self.posts.copy(post[0], post[1], article["info_code"])
            if article["slug"] not in pages:
                self.posts.ensure_category_page(article)
                pages.add(article["slug"])

    def _write_legacy_redirect(self, article: Mapping, current_slugs: set[str]) -> None:
        """``category/<legacy_slug>.html`` leading to the paper's page, when the old
        slug differs from today's and names no current paper's page."""
        old, slug = article.get("legacy_slug"), article["slug"]
        if not old or old == slug or old in current_slugs:
            return
        path = self.root / jekyll.CATEGORY_DIR / f"{old}.html"
        try:
            existing = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            existing = None
        except (OSError, UnicodeDecodeError):
            return
        if existing is not None and jekyll.REDIRECT_LAYOUT not in existing:
            return  # a page of its own (not one of our redirects): never replaced
        write_atomic(path, jekyll.format_redirect_page(article["newspaper"], slug), fsync=False)

    def write_feeds(self, slugs: set[str]) -> list[str]:
        """Rewrite the Atom feeds of the papers ``slugs`` and ``feed/all.xml`` (when any
        paper changed) from the committed rows: the newest ``FEED_SIZE`` articles each,
        atomically, each file only when its bytes changed. Returns the files written.

        Called after every committed batch, so the feeds always show what the database
        holds, whatever point a run is stopped at (the posts are there already)."""
        if self.db is None or not slugs:
            return []
        written = []
        for slug in [*sorted(slugs), None]:
            rel = f"{FEED_DIR}/{slug or 'all'}.xml"
            if write_atomic(
                self.root / rel, feeds.archive_feed(self.db.newest(slug, FEED_SIZE), slug, self.settings.site_url)
            ):
                written.append(rel)
        return written

    def _update_site(self, codes: list[str]) -> None:
        """Bring the reading site (``FINEWS_SITE_DIR``) up to date with a committed batch."""
        from ..site import update_configured_site

        try:
            update_configured_site(self.settings.site_dir, self.db.conn, codes)
        except Exception as exc:  # the batch is recorded; the site is what lags (and fails the run)
            logger.error(
                "the reading site %s could not be updated (%s: %s); the archive is complete: "
                "`scrapy site` brings the site up to date",
                self.settings.site_dir,
                type(exc).__name__,
                exc,
            )

    def record_crawl(self, crawl: Mapping) -> bool:
        """Add a ``crawls`` row; False when there is no database to hold it."""
        if self.db is None:
            return False
        self.check_in_place()
        self.db.record_crawl(crawl)
        return True

    def iter_articles(self) -> Iterator[dict]:
        """Every archived row, oldest first."""
        if self.db is None:
            return iter(())
        return self.db.iter_articles()

    def rebuild_posts(self) -> tuple[int, int]:
        """Write the post and category page of every archived article again, and every
        Atom feed; returns (posts written, posts already identical)."""
        if self.db is None:
            raise ArchiveUnusable("rebuilding posts needs the database (FINEWS_EXPORTERS must include sqlite)")
        self._ensure_site_files()
        posts = self.posts or _Posts(self.root, self.settings.site_url, fsync=False)
        written = same = 0
        for row in self.db.iter_articles():
            row["published_at"] = datetime.fromisoformat(row["published_at"])
            if posts.write(row) == "unchanged":
                same += 1
            else:
                written += 1
        sync_filesystem(self.root)
        self.write_feeds(self.db.slugs_with_articles())
        return written, same

    # -- the feed cache: one feed read serves every run on this data folder for a while ----
    def _feed_path(self, url: str) -> Path:
        return self.root / FEED_CACHE_DIR / f"{hashlib.sha256(url.encode('utf-8')).hexdigest()[:24]}.json"

    def cached_feed(self, url: str, max_age: float, now: datetime | None = None) -> tuple[bytes, datetime] | None:
        """The body of feed ``url`` as a run on this data folder fetched it at most
        ``max_age`` seconds ago, and when; ``None`` when there is none that fresh (or the
        cached file cannot be read: then the feed is simply fetched)."""
        try:
            entry = json.loads(self._feed_path(url).read_bytes())
            fetched = datetime.fromisoformat(entry["fetched_at"])
            if entry["url"] != url or fetched.tzinfo is None:
                return None
            body = entry["body"].encode("utf-8")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        age = ((now or datetime.now(UTC)) - fetched).total_seconds()
        return (body, fetched) if 0 <= age <= max_age else None

    def store_feed(self, url: str, body: bytes, fetched_at: datetime) -> None:
        """Keep a good feed response (a JSON object) for the other runs (written atomically)."""
        entry = {"url": url, "fetched_at": fetched_at.isoformat(), "body": body.decode("utf-8")}
        write_atomic(self._feed_path(url), json.dumps(entry, ensure_ascii=False), fsync=False)

    async def cached_feed_async(self, url: str, max_age: float):
        """:meth:`cached_feed`, on the writer thread."""
        return await self._crawl.call(self.cached_feed, url, max_age)

    async def store_feed_async(self, url: str, body: bytes, fetched_at: datetime) -> None:
        """:meth:`store_feed`, on the writer thread."""
        await self._crawl.call(self.store_feed, url, body, fetched_at)

    @property
    def warc_dir(self) -> Path:
        return self.settings.warc_dir

    def warc_writer(self, spider_name: str, info: dict):
        """The WARC writer of this run: ``<warc dir>/finews-<spider>-<host>-<time>-<pid>-<n>.warc.gz``."""
        from ..warc import WarcWriter, run_prefix

        return WarcWriter(self.warc_dir, run_prefix(spider_name), info, self.settings.warc_max_bytes)

    # -- in a crawl ----------------------------------------------------------------------
    @classmethod
    def from_crawler(cls, crawler) -> Archive:
        config = config_for(crawler)
        lock_name = None
        if config.lock:
            lock_name = config.lock_name or getattr(crawler.spidercls, "name", None) or "finews"
        if config.fleet_worker:
            # A worker of the fleet writes only its WARC files here; the writer archives
            # its articles, and Redis tells it what is archived.
            from ..distributed import RedisArchiveView, connect

            archive = cls(replace(config, exporters=frozenset(), site_dir=None), lock_name=lock_name)
            archive.view = RedisArchiveView(connect(config.redis_url))
        else:
            archive = cls(config, lock_name=lock_name)
        archive._crawl = _CrawlSide(archive, crawler)
        crawler.signals.connect(archive._crawl.engine_stopped, signal=signals.engine_stopped)
        return archive

    def description(self, info_code: str) -> dict | None:
        """What the archive knows of an article as a feed would list it: ``title``,
        ``datetime`` (ISO, Beijing time), ``newspaper``; ``None`` when not archived."""
        if self.db is None:
            return None
        known = self.db.archived_versions([info_code], ("title", "published_at", "newspaper")).get(info_code)
        return None if known is None else dict(zip(("title", "datetime", "newspaper"), known))

    async def describe(self, info_code: str) -> dict | None:
        """:meth:`description`, on the writer thread."""
        return await self._crawl.call(self.description, info_code)

    async def fetch_versions(self, codes: list[str]) -> dict[str, tuple[str, str]]:
        """:meth:`archived_versions`, on the writer thread."""
        return await self._crawl.call(self.archived_versions, codes)

    async def publish(self, article: dict) -> dict:
        """Queue ``article`` for the next batch; returns what :meth:`publish_batch` says of
        it once the batch is committed (raises if the batch could not be recorded)."""
        return await self._crawl.publish(article)

    async def flush(self) -> None:
        """Record every queued article now."""
        await self._crawl.flush()

    async def record_crawl_async(self, crawl: Mapping) -> bool:
        return await self._crawl.call(self.record_crawl, crawl)


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of ``path``, or None when it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


class _CrawlSide:
    """The archive's life in a crawl: one writer thread, and the batch of articles
    waiting for it (flushed when full, when its oldest article waited
    ``batch_seconds``, or as soon as the crawl has nothing else in flight)."""

    TICK = 0.05

    def __init__(self, archive: Archive, crawler):
        from twisted.internet import reactor
        from twisted.python.threadpool import ThreadPool

        self.archive, self.crawler, self.reactor = archive, crawler, reactor
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="finews-archive")
        self.pool.start()
        self.pending: list[tuple[dict, object]] = []
        self.started = 0.0
        self.in_flight: set = set()
        self.timer = None

    async def call(self, fn, *args):
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet.threads import deferToThreadPool

        return await maybe_deferred_to_future(deferToThreadPool(self.reactor, self.pool, fn, *args))

    async def publish(self, article: dict) -> dict:
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet.defer import Deferred
        from twisted.internet.task import LoopingCall

        done: Deferred = Deferred()
        if not self.pending:
            self.started = time.monotonic()
        self.pending.append((article, done))
        if len(self.pending) >= self.archive.settings.sqlite_batch_size:
            self._flush()
        elif self.timer is None:
            self.timer = LoopingCall(self._tick)
            self.timer.start(self.TICK, now=False)
        return await maybe_deferred_to_future(done)

    def _quiet(self) -> bool:
        engine = self.crawler.engine
        try:
            return not engine.downloader.active and not engine.scheduler.has_pending_requests()
        except AttributeError:
            return False

    def _tick(self) -> None:
        if self.pending and (
            time.monotonic() - self.started >= self.archive.settings.sqlite_batch_seconds or self._quiet()
        ):
            self._flush()

    def _flush(self):
        from twisted.internet.threads import deferToThreadPool

        batch, self.pending = self.pending, []
        if not batch:
            return None
        seen = datetime.now(UTC).replace(microsecond=0)
        d = deferToThreadPool(self.reactor, self.pool, self.archive.publish_batch, [a for a, _ in batch], seen)
        self.in_flight.add(d)

        def done(results):
            self.in_flight.discard(d)
            for (_, waiting), result in zip(batch, results):
                waiting.callback(result)

        def failed(failure):
            self.in_flight.discard(d)
            for _, waiting in batch:
                waiting.errback(failure)

        d.addCallbacks(done, failed)
        return d

    async def flush(self) -> None:
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet.defer import DeferredList

        self._flush()
        if self.in_flight:
            await maybe_deferred_to_future(DeferredList(list(self.in_flight), consumeErrors=True))

    def stop(self) -> None:
        """Stop the batch timer and the writer thread (joined: its batch in progress ends first)."""
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        self.pool.stop()

    def engine_stopped(self) -> None:
        self.stop()
        self.archive.close()


class _Posts:
    """Writes the posts and category pages of one archive directory.

    An article whose date changed gets a new file name; its post under the old date is
    removed once the new one is in place, so an article never has two posts. The posts
    on disk are listed once, when the writer starts."""

    def __init__(self, root: Path, site_url: str, fsync: bool):
        self.root, self.site_url, self.fsync = Path(root), site_url, fsync
        self.posts_dir = self.root / jekyll.POSTS_DIR
        # infoCode -> the names of its posts (one, but for a post left under an old date);
        # tuples, not sets: a big archive's writer holds one per article.
        self.by_code: dict[str, tuple[str, ...]] = {}
        if self.posts_dir.is_dir():
            with os.scandir(self.posts_dir) as entries:
                for entry in entries:
                    code = jekyll.info_code_of_post(entry.name)
                    if code:
                        self.by_code[code] = (*self.by_code.get(code, ()), entry.name)

    def write(self, article: Mapping) -> str:
        """Write an article's post (and its newspaper's category page if missing); returns
        ``new`` (no post of the article existed), ``changed`` or ``unchanged`` (the post
        already held exactly these bytes)."""
        code = article["info_code"]
        name = jekyll.post_filename(code, article["published_at"])
        before = self.by_code.get(code, ())
        written = write_atomic(
            self.posts_dir / name, jekyll.format_post(article, self.site_url), self.fsync, absent=name not in before
        )
        for stale in set(before) - {name}:
            (self.posts_dir / stale).unlink(missing_ok=True)
        self.by_code[code] = (name,)
        self.ensure_category_page(article)
        if not before:
            return "new"
        return "changed" if written or set(before) != {name} else "unchanged"

    def ensure_category_page(self, article: Mapping) -> None:
        """The category page of the article's newspaper, written when missing."""
        category = self.root / jekyll.CATEGORY_DIR / f"{article['slug']}.html"
        if not category.exists():
            write_atomic(
                category, jekyll.format_category_page(article["newspaper"], article["slug"]), self.fsync, absent=True
            )

    def copy(self, name: str, data: bytes, code: str) -> None:
        """Place a post of another archive here as it is (same name, same bytes, written
        atomically); a post of the same article under another name is removed."""
        before = self.by_code.get(code, ())
        write_atomic(self.posts_dir / name, data, self.fsync, absent=name not in before)
        for stale in set(before) - {name}:
            (self.posts_dir / stale).unlink(missing_ok=True)
        self.by_code[code] = (name,)
