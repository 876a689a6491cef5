"""The archive in a crawl: a Scrapy extension (``EXTENSIONS``) that opens the
:class:`~finews_spider.archive.Archive` (taking the run's lock before anything else starts),
runs every blocking call of it (SQLite, file writes, ``syncfs``) on one writer thread of
its own, never on the reactor thread, and batches the articles it is given.

Components find it with ``crawler.get_extension(ArchiveExtension)`` and ask it, with
coroutines named for what they need: :meth:`~ArchiveExtension.fetch_versions` (is this
archived, and as what), :meth:`~ArchiveExtension.describe`, :meth:`~ArchiveExtension.publish`
(record this article: its batch is committed before the call returns),
:meth:`~ArchiveExtension.flush`, :meth:`~ArchiveExtension.run` (any call of the archive, on
the writer thread). A batch is recorded when it is full (``FINEWS_SQLITE_BATCH_SIZE``), when
its oldest article waited ``FINEWS_SQLITE_BATCH_SECONDS``, or as soon as the crawl has
nothing else in flight.

On a fleet worker (``FINEWS_REDIS_URL``) the archive writes nothing but is still the
owner of the data folder (the lock, the WARC folder); what is archived is the writer's
answer in Redis (:class:`~finews_spider.distributed.RedisArchiveView`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from scrapy import signals
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from ..archive import Archive
from ..config import config_for
from ..distributed import RedisArchiveView, connect


def _reactor():
    """The running reactor. Imported when first needed, never at import time: importing
    ``twisted.internet.reactor`` installs the default one, and Scrapy's commands import
    this module before Scrapy installs the reactor its settings ask for."""
    from twisted.internet import reactor

    return reactor


class ArchiveExtension:
    """The archive of a crawl (see the module). ``archive``: the open archive; ``view``:
    a fleet worker's view of what the writer archived (or ``None``)."""

    TICK = 0.05  # seconds between checks of the waiting batch

    def __init__(self, crawler, archive: Archive, view: RedisArchiveView | None = None):
        self.crawler, self.archive, self.view = crawler, archive, view
        self.batch_size = archive.config.sqlite_batch_size
        self.batch_seconds = archive.config.sqlite_batch_seconds
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="finews-archive")
        self.pool.start()
        self.pending: list[tuple[dict, Deferred]] = []
        self.started = 0.0
        self.in_flight: set[Deferred] = set()
        self.timer: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler) -> ArchiveExtension:
        config = config_for(crawler)
        lock_name = None
        if config.lock:
            lock_name = config.lock_name or getattr(crawler.spidercls, "name", None) or "finews"
        view = None
        if config.fleet_worker:
            # A worker of the fleet writes only its WARC files here; the writer archives
            # its articles, and Redis tells it what is archived.
            config = replace(config, exporters=frozenset(), site_dir=None)
            view = RedisArchiveView(connect(config.redis_url))
        extension = cls(crawler, Archive(config, lock_name=lock_name), view)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    # -- what components ask ------------------------------------------------------------
    @property
    def remembers(self) -> bool:
        """Whether the archive knows what it holds (a database, or the fleet's view)."""
        return self.view is not None or self.archive.remembers

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on the writer thread (where every call of the archive belongs)."""
        return await maybe_deferred_to_future(deferToThreadPool(_reactor(), self.pool, fn, *args))

    async def fetch_versions(self, codes: list[str]) -> dict[str, tuple[str, str]]:
        """:meth:`Archive.archived_versions` (on a fleet worker: as the writer last
        published them in Redis)."""
        if self.view is not None:
            return await self.run(self.view.archived_versions, codes)
        return await self.run(self.archive.archived_versions, codes)

    async def describe(self, info_code: str) -> dict | None:
        """:meth:`Archive.description`."""
        return await self.run(self.archive.description, info_code)

    def iter_versions(self) -> Iterator[tuple[str, str, str]]:
        """:meth:`Archive.iter_versions` (call it on the writer thread)."""
        return self.archive.iter_versions()

    def record_crawl(self, row: dict) -> bool:
        """:meth:`Archive.record_crawl`, at the end of the run (the writer thread is idle)."""
        return self.archive.record_crawl(row)

    async def publish(self, article: dict) -> dict:
        """Queue ``article`` for the next batch; returns what :meth:`Archive.publish_batch`
        says of it once the batch is committed (raises if the batch could not be recorded)."""
        done: Deferred = Deferred()
        if not self.pending:
            self.started = time.monotonic()
        self.pending.append((article, done))
        if len(self.pending) >= self.batch_size:
            self._flush()
        elif self.timer is None:
            self.timer = LoopingCall(self._tick)
            self.timer.start(self.TICK, now=False)
        return await maybe_deferred_to_future(done)

    async def flush(self) -> None:
        """Record every queued article now."""
        self._flush()
        if self.in_flight:
            await maybe_deferred_to_future(DeferredList(list(self.in_flight), consumeErrors=True))

    # -- the batch ---------------------------------------------------------------------
    def _quiet(self) -> bool:
        engine = self.crawler.engine
        try:
            return not engine.downloader.active and not engine.scheduler.has_pending_requests()
        except AttributeError:
            return False

    def _tick(self) -> None:
        if self.pending and (time.monotonic() - self.started >= self.batch_seconds or self._quiet()):
            self._flush()

    def _flush(self) -> Deferred | None:
        batch, self.pending = self.pending, []
        if not batch:
            return None
        seen = datetime.now(UTC).replace(microsecond=0)
        d = deferToThreadPool(_reactor(), self.pool, self.archive.publish_batch, [a for a, _ in batch], seen)
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

    # -- the end -----------------------------------------------------------------------
    def stop_writer(self) -> None:
        """Stop the batch timer and the writer thread (joined: the batch it is writing is
        committed whole, or rolled back); batches not yet flushed are dropped (their
        articles are fetched again next run). After a forced stop (``engine_stopped``
        never sent) the crawl command calls it so the process can exit; the database
        stays open for the verdict."""
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        self.pool.stop()

    def close(self) -> None:
        """Close the archive (its database, its lock); idempotent."""
        self.archive.close()

    def engine_stopped(self) -> None:
        self.stop_writer()
        self.close()
