"""The worker's last pipeline: each article goes to the writer's queue in Redis."""

from __future__ import annotations

from itemadapter import ItemAdapter

from ..config import config_for
from ..run import Stat
from . import ItemQueue, connect, encode_item


class QueuePipeline:
    """Replaces validate, clean and publish on a worker (``worker_settings``): pushes the
    article, as scraped, to ``finews:items``; the writer validates, cleans and archives
    it. Counts ``finews/articles_queued``."""

    def __init__(self, crawler, queue: ItemQueue):
        self.crawler, self.queue = crawler, queue

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, ItemQueue(connect(config_for(crawler).redis_url)))

    def process_item(self, item):
        self.queue.push(encode_item(ItemAdapter(item).asdict()))
        self.crawler.stats.inc_value(Stat.ARTICLES_QUEUED)
        return item
