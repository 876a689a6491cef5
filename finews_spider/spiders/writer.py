"""The spider behind ``scrapy writer``: the fleet's articles, from the queue in Redis,
through the ordinary pipelines (validate -> clean -> publish) into the archive.

Its ``start()`` takes items from ``finews:items`` (each moved to the processing list),
and an item leaves Redis (``LREM``) only when its fate is final: archived (its batch
committed: ``item_scraped``, which the publish pipeline signals only after the commit)
or dropped for a stated reason. An article whose batch could not be recorded, or that
hit an unexpected error, stays in processing and is taken again when the writer next
starts (:meth:`ItemQueue.recover`), so a writer killed at any point, SIGKILL included,
loses nothing; one killed between a commit and the ack records the article again with
the same bytes (``unchanged``), so nothing is doubled. After each archived article its
title and date go to ``finews:archived``, which the workers ask (and the whole archive's,
when the writer starts).
"""

from __future__ import annotations

import logging
import signal

import scrapy
from itemadapter import ItemAdapter
from scrapy import signals

from ..asynctools import in_thread, sleep
from ..config import config_for
from ..distributed import ItemQueue, RedisArchiveView, connect, decode_item, workers_alive
from ..extensions.archive import ArchiveExtension
from ..items import Article
from ..pipelines.publish import NotRecorded
from ..run import Stat, dropped_stat
from .base import refuse_unknown_arguments

logger = logging.getLogger(__name__)


class WriterSpider(scrapy.Spider):
    """``drain``: end once the queue is empty and no worker runs (else: until stopped,
    by SIGTERM or Ctrl-C, after which what was taken is finished)."""

    TAKE = 100
    POLL_SECONDS = 0.2

    def __init__(self, *args, drain: str = "", **kwargs):
        refuse_unknown_arguments(kwargs, ())
        kwargs.setdefault("name", "writer")
        super().__init__(*args, **kwargs)
        self.drain = drain not in ("", "0")
        self.stopping = False
        self.taken: dict[int, bytes] = {}  # id(item) -> its bytes in the processing list

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(spider.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(spider.item_error, signal=signals.item_error)
        return spider

    async def start(self):
        server = connect(config_for(self.crawler).redis_url)
        self.queue, self.view = ItemQueue(server), RedisArchiveView(server)
        stats = self.crawler.stats
        recovered = await in_thread(self.queue.recover)
        if recovered:
            stats.set_value(Stat.WRITER_RECOVERED, recovered)
            logger.warning("%d article(s) left unrecorded by an earlier writer are taken again", recovered)
        archive = self.crawler.get_extension(ArchiveExtension)
        if archive is None:
            raise RuntimeError("the writer needs the archive extension (finews_spider.extensions.archive)")
        published = await archive.run(lambda: self.view.record(archive.iter_versions()))
        logger.info("writer: %d archived article(s) published to the workers", published)
        self._catch_stop()
        while True:
            raws = await in_thread(self.queue.take, self.TAKE)
            for raw in raws:
                try:
                    item = Article(**decode_item(raw))
                except (ValueError, KeyError, TypeError) as exc:
                    stats.inc_value(Stat.ARTICLES_REQUESTED)
                    stats.inc_value(Stat.ARTICLES_DROPPED)
                    stats.inc_value(dropped_stat("unreadable"))
                    logger.warning("queue item dropped (unreadable: %s): %r", exc, raw[:200])
                    self.queue.ack(raw)
                    continue
                self.taken[id(item)] = raw
                stats.inc_value(Stat.ARTICLES_REQUESTED)
                yield item
            if raws:
                continue
            if self.stopping or (self.drain and not await in_thread(self._fleet_busy)):
                while self.taken:  # ending once they are settled lets Scrapy close at once, not at its 5 s heartbeat
                    await sleep(self.POLL_SECONDS / 4)
                return
            await sleep(self.POLL_SECONDS)

    def _fleet_busy(self) -> bool:
        return self.queue.waiting() > 0 or bool(workers_alive(self.queue.server))

    def _catch_stop(self) -> None:
        """The first SIGTERM/SIGINT ends the writer like an empty queue ends a drain
        (what was taken is finished, the run is judged as finished); a second one goes
        to Scrapy (its graceful, then forced, shutdown)."""
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

        def stop(signum, frame):
            logger.info("writer: stopping after the articles already taken (signal %d)", signum)
            self.stopping = True
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        for sig in previous:
            signal.signal(sig, stop)

    def _settle(self, item) -> bytes | None:
        return self.taken.pop(id(item), None)

    def item_scraped(self, item, response, spider):
        raw = self._settle(item)
        adapter = ItemAdapter(item)
        self.view.record([(adapter["info_code"], adapter["title"], adapter["published_at"].isoformat())])
        if raw is not None:
            self.queue.ack(raw)

    def item_dropped(self, item, response, exception, spider):
        raw = self._settle(item)
        if raw is not None and not isinstance(exception, NotRecorded):
            self.queue.ack(raw)  # dropped for a stated reason: final

    def item_error(self, item, response, spider, failure):
        self._settle(item)  # stays in processing: taken again at the next start
