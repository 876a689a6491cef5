"""Many machines: workers share one frontier in Redis, one writer owns the archive.

With ``FINEWS_REDIS_URL`` set, ``scrapy crawl <spider>`` is a **worker**
(:func:`worker_settings`): scrapy-redis' scheduler and dupefilter keep the requests of
the current run in Redis (:mod:`.fleet`), each request to an upstream host takes a lease
of the fleet-wide per-host semaphore (:mod:`.politeness`), and each scraped article goes
to the item queue in Redis (:class:`~.pipeline.QueuePipeline`) instead of the archive. A
worker has no database: what is archived it asks :class:`RedisArchiveView`, which the
writer keeps current. ``scrapy writer`` (``commands/writer.py``) drains the queue
through the ordinary pipelines into the archive.

Redis keys (all under ``finews:``):

- ``finews:items`` (list): articles waiting for the writer, JSON (:func:`encode_item`);
  ``finews:items:processing`` (list): taken by the writer, not yet committed
  (:class:`ItemQueue`, the reliable-queue pattern);
- ``finews:archived`` (hash): ``info_code -> [title, published_at]`` of every archived
  article, written by the writer after each committed batch;
- ``finews:run:<spider>``: the id of the spider's current run, and per run
  ``finews:<spider>:<run>:requests`` (the frontier), ``…:seen`` (the dupefilter);
- ``finews:worker:<spider>:<run>:<host>-<pid>``: a worker's heartbeat (busy or idle),
  expiring ``WORKER_TTL_MS`` after its last beat;
- ``finews:fleet:host:<host>`` and ``finews:fleet:next:<host>``: the per-host leases and
  the minimum interval (:mod:`.politeness`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

PREFIX = "finews"
ITEMS = f"{PREFIX}:items"
PROCESSING = f"{PREFIX}:items:processing"
ARCHIVED = f"{PREFIX}:archived"
WORKERS = f"{PREFIX}:worker:"
WORKER_TTL_MS = 15_000

_DATETIME_FIELDS = ("published_at", "fetched_at")


def connect(url: str | None):
    """A Redis client for ``url`` (``redis://host:port/db``: ``FINEWS_REDIS_URL``, which
    must be set)."""
    import redis

    if url is None:
        raise ValueError("FINEWS_REDIS_URL is not set: no Redis server to connect to")
    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10, health_check_interval=30)


def worker_settings(settings) -> dict:
    """The Scrapy settings that make a crawl a worker of the fleet (applied by
    ``scrapy crawl`` when ``FINEWS_REDIS_URL`` is set) from the project's ``settings``."""
    # Joins the run before the archive takes its lock and starts its thread.
    extensions = {**settings.getdict("EXTENSIONS"), "finews_spider.distributed.fleet.Fleet": 0.5}
    downloader = {
        **settings.getdict("DOWNLOADER_MIDDLEWARES"),
        "finews_spider.distributed.politeness.FleetPolitenessMiddleware": 900,
    }
    return {
        "FINEWS_FLEET_WORKER": True,
        "SCHEDULER": "finews_spider.distributed.fleet.FleetScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,  # the frontier is the fleet's: one worker leaving does not clear it
        "REDIS_URL": settings.get("FINEWS_REDIS_URL"),
        "EXTENSIONS": extensions,
        "DOWNLOADER_MIDDLEWARES": downloader,
        # Validation, cleaning and publishing happen once, on the writer.
        "ITEM_PIPELINES": {"finews_spider.distributed.pipeline.QueuePipeline": 500},
    }


def encode_item(fields: dict) -> bytes:
    """An article's fields as the JSON the queue holds (datetimes as ISO 8601)."""
    return json.dumps(
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in fields.items()},
        ensure_ascii=False,
        sort_keys=True,
    ).encode("utf-8")


def decode_item(raw: bytes) -> dict:
    """The fields of :func:`encode_item`, datetimes parsed back."""
    fields = json.loads(raw)
    for name in _DATETIME_FIELDS:
        if isinstance(fields.get(name), str):
            fields[name] = datetime.fromisoformat(fields[name])
    return fields


class ItemQueue:
    """The queue of articles from the workers to the writer, a reliable queue: the writer
    *takes* an item by moving it (``LMOVE``) to the processing list, and *acks* it
    (``LREM``) only once its batch is committed; :meth:`recover` moves back what a
    killed writer left in processing. Only one writer runs at a time (it holds the
    archive's lock), so everything in processing at its start is unacknowledged."""

    def __init__(self, server):
        self.server = server

    def push(self, raw: bytes) -> None:
        self.server.lpush(ITEMS, raw)

    def take(self, limit: int) -> list[bytes]:
        """Up to ``limit`` items, oldest first, each moved to processing."""
        out = []
        for _ in range(limit):
            raw = self.server.lmove(ITEMS, PROCESSING, "RIGHT", "LEFT")
            if raw is None:
                break
            out.append(raw)
        return out

    def ack(self, raw: bytes) -> None:
        self.server.lrem(PROCESSING, 1, raw)

    def recover(self) -> int:
        """Move every item left in processing back to the queue (to be taken first)."""
        moved = 0
        while self.server.lmove(PROCESSING, ITEMS, "LEFT", "RIGHT") is not None:
            moved += 1
        return moved

    def waiting(self) -> int:
        return self.server.llen(ITEMS)

    def processing(self) -> int:
        return self.server.llen(PROCESSING)


def workers_alive(server) -> list[str]:
    """The heartbeat keys of the workers running now (any spider, any run)."""
    return [k.decode() for k in server.scan_iter(match=WORKERS + "*", count=500)]


class RedisArchiveView:
    """What the archive holds, as the writer published it in Redis: a worker's answer to
    "is this article archived, and as what" (the same question, and the same answer
    shape, as :meth:`Archive.archived_versions`)."""

    def __init__(self, server):
        self.server = server

    def archived_versions(self, codes: list[str]) -> dict[str, tuple[str, str]]:
        """``info_code -> (title, published_at ISO)`` of the archived ones among ``codes``."""
        out: dict[str, tuple[str, str]] = {}
        for i in range(0, len(codes), 500):
            chunk = codes[i : i + 500]
            for code, value in zip(chunk, self.server.hmget(ARCHIVED, chunk)):
                if value is not None:
                    title, published = json.loads(value)
                    out[code] = (title, published)
        return out

    def record(self, versions: Iterable[tuple[str, str, str]]) -> int:
        """Store ``(info_code, title, published_at)`` of committed articles; returns how many."""
        mapping = {code: json.dumps([title, published], ensure_ascii=False) for code, title, published in versions}
        pairs = list(mapping.items())
        for i in range(0, len(pairs), 1000):
            self.server.hset(ARCHIVED, mapping=dict(pairs[i : i + 1000]))
        return len(mapping)
