"""A worker's membership of its spider's current run, and the run's frontier.

A **run** of a spider on the fleet is what one cron run is on one machine: its feeds are
read once, each listed article is fetched once, then it ends. The first worker to start
(``SET NX`` on ``finews:run:<spider>``) opens a new run and reads the feeds; workers
starting while it lasts join it and take requests from its frontier. The frontier and
the dupefilter are per run (``finews:<spider>:<run>:requests`` / ``…:seen``), so the
next run lists and fetches again what changed. A worker ends when the frontier is empty
and no other worker of the run is busy (one that is may still add requests); the last
worker to leave removes the run, so the next start opens a new one. A killed worker's
heartbeat and the run key expire after ``WORKER_TTL_MS``; requests it had taken are
lost, and listed again by the next run (they are not archived).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from ..config import config_for
from ..exceptions import FleetUnreachable
from . import PREFIX, WORKER_TTL_MS, WORKERS, connect

if TYPE_CHECKING:
    from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)


def join_run(server, spider: str) -> tuple[str, bool]:
    """``(run id, opened)``: the spider's current run, opened by us (``True``) if there
    was none."""
    key = f"{PREFIX}:run:{spider}"
    for _ in range(10):
        run = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        if server.set(key, run, nx=True, px=WORKER_TTL_MS):
            return run, True
        current = server.get(key)
        if current is not None:
            return current.decode(), False
    raise RuntimeError(f"could not join or open a run of {spider} in Redis")


class Fleet:
    """The worker side of a fleet run (an extension, on when ``FINEWS_FLEET_WORKER`` is
    set by ``scrapy crawl``): joins the run, beats its heartbeat, keeps the spider open
    while the run has work, and says whether this worker reads the feeds
    (:attr:`reads_feeds`)."""

    BEAT_SECONDS = 2.0
    POLL_SECONDS = 0.2  # how soon an idle worker looks at the frontier again

    def __init__(self, crawler, server, spider: str):
        self.crawler, self.server, self.spider = crawler, server, spider
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}"
        self.run_id, self.reads_feeds = join_run(server, spider)
        self.state = ""
        self.beat: LoopingCall | None = None
        self.mark("busy")
        logger.info(
            "fleet: worker %s %s run %s of %s",
            self.worker_id,
            "opened" if self.reads_feeds else "joined",
            self.run_id,
            spider,
        )

    @classmethod
    def from_crawler(cls, crawler):
        config = config_for(crawler)
        if not (config.fleet_worker and config.redis_url):
            raise NotConfigured
        import redis

        try:
            fleet = cls(crawler, connect(config.redis_url), crawler.spidercls.name)
        except redis.RedisError as exc:
            raise FleetUnreachable(f"the fleet's Redis server {config.redis_url} cannot be used ({exc})") from exc
        crawler.signals.connect(fleet.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(fleet.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(fleet.spider_closed, signal=signals.spider_closed)
        return fleet

    def key(self, name: str) -> str:
        """A key of this run: ``finews:<spider>:<run>:<name>``."""
        return f"{PREFIX}:{self.spider}:{self.run_id}:{name}"

    @property
    def worker_key(self) -> str:
        return f"{WORKERS}{self.spider}:{self.run_id}:{self.worker_id}"

    def mark(self, state: str) -> None:
        """Publish this worker's state (``busy``/``idle``) with a fresh expiry."""
        if state != self.state:
            self.state = state
            self.server.set(self.worker_key, state, px=WORKER_TTL_MS)

    def heartbeat(self) -> None:
        pipe = self.server.pipeline()
        pipe.set(self.worker_key, self.state, px=WORKER_TTL_MS)
        pipe.pexpire(f"{PREFIX}:run:{self.spider}", WORKER_TTL_MS)
        pipe.execute()

    def peers(self) -> dict[str, str]:
        """The other workers of this run and their states."""
        keys = [
            k
            for k in self.server.scan_iter(match=f"{WORKERS}{self.spider}:{self.run_id}:*", count=500)
            if k.decode() != self.worker_key
        ]
        return {k.decode(): (v or b"").decode() for k, v in zip(keys, self.server.mget(keys))} if keys else {}

    def spider_opened(self, spider) -> None:
        from twisted.internet.task import LoopingCall

        beat = self.beat = LoopingCall(self.heartbeat)
        beat.start(self.BEAT_SECONDS, now=True)

    def spider_idle(self, spider) -> None:
        self.mark("idle")
        if self.server.zcard(self.key("requests")) or "busy" in self.peers().values():
            engine_slot = getattr(self.crawler.engine, "_slot", None)  # look again soon, not at the 5 s heartbeat
            if engine_slot is not None:
                engine_slot.nextcall.schedule(self.POLL_SECONDS)
            raise DontCloseSpider

    def spider_closed(self, spider, reason) -> None:
        if self.beat is not None and self.beat.running:
            self.beat.stop()
        self.server.delete(self.worker_key)
        if not self.peers():  # the last worker of the run: the next start opens a new run
            run_key = f"{PREFIX}:run:{self.spider}"
            if (self.server.get(run_key) or b"").decode() == self.run_id:
                self.server.delete(run_key)
            self.server.delete(self.key("seen"), self.key("requests"))


class FleetScheduler(RedisScheduler):
    """scrapy-redis' scheduler on the run's own keys (:class:`Fleet`): requests of the run
    go to its frontier in Redis, and are filtered by its dupefilter, so each is fetched
    by one worker of the fleet once."""

    @classmethod
    def from_crawler(cls, crawler):
        scheduler = super().from_crawler(crawler)
        # Counted here (scrapy-redis 0.9.1 passes the spider to inc_value, which Scrapy 2.19 deprecates).
        scheduler.stats, scheduler.counts = None, crawler.stats
        scheduler.fleet = crawler.get_extension(Fleet)
        if scheduler.fleet is None:
            raise RuntimeError("FleetScheduler needs the Fleet extension (FINEWS_REDIS_URL and scrapy crawl)")
        return scheduler

    def open(self, spider):
        self.queue_key = self.fleet.key("requests")
        self.df = RFPDupeFilter(self.server, key=self.fleet.key("seen"))
        return super().open(spider)

    def enqueue_request(self, request):
        queued = super().enqueue_request(request)
        if queued:
            self.counts.inc_value("scheduler/enqueued/redis")
        return queued

    def next_request(self):
        request = super().next_request()
        if request is not None:
            self.counts.inc_value("scheduler/dequeued/redis")
            self.fleet.mark("busy")
        return request
