"""Per-paper spiders without multiplied traffic: a feed fetched by any run on this data
folder answers the others for ``FINEWS_FEED_TTL`` seconds.

Every spider reads the same three feeds; run one per paper from cron and each would
fetch them. This downloader middleware answers a feed request from the archive's feed
cache (:class:`~finews_spider.archive.feedcache.FeedCache`, ``<data>/.feeds/``, read and
written on a thread) while it is fresh, so the spider
and its parsing are unchanged (a cached feed is read, counted ``finews/feeds_ok`` and
judged like any other), and keeps each good feed response it sees go by (2xx, a JSON
object) for the runs that follow. Cached answers carry the response flag
:data:`CACHED_FLAG`: the WARC capture leaves them out (they are no new capture).
Off when replaying (the WARCs answer everything) or with ``FINEWS_FEED_TTL=0``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from scrapy.exceptions import NotConfigured
from scrapy.http import TextResponse
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from ..archive.feedcache import FeedCache
from ..config import config_for
from ..meta import CACHED_FLAG
from ..run import Stat

logger = logging.getLogger(__name__)


class FeedCacheMiddleware:
    """Answer feed requests from the archive's cache when fresh; store fresh good ones.
    Counts ``finews/feeds_cached`` (answered from the cache) and ``finews/feeds_stored``."""

    def __init__(self, crawler, cache: FeedCache, ttl: float, feed_url: str):
        self.crawler, self.cache, self.ttl = crawler, cache, ttl
        self.prefix = feed_url + "?"

    @classmethod
    def from_crawler(cls, crawler):
        config = config_for(crawler)
        if config.feed_ttl <= 0 or config.replay:
            raise NotConfigured  # off, or replaying: the normal cases, so no warning in the log
        return cls(crawler, FeedCache(config.data_dir), config.feed_ttl, config.feed_url)

    def is_feed(self, request) -> bool:
        return request.method == "GET" and request.url.startswith(self.prefix)

    async def process_request(self, request, spider=None):
        if not self.is_feed(request):
            return None
        cached = await maybe_deferred_to_future(deferToThread(self.cache.cached, request.url, self.ttl))
        if cached is None:
            return None
        body, fetched = cached
        self.crawler.stats.inc_value(Stat.FEEDS_CACHED)
        logger.info("feed %s answered from the feed cache (fetched %s)", request.url, fetched.isoformat())
        return TextResponse(
            url=request.url,
            status=200,
            body=body,
            encoding="utf-8",
            request=request,
            headers={"Content-Type": "application/json; charset=utf-8"},
            flags=[CACHED_FLAG],
        )

    async def process_response(self, request, response, spider=None):
        if (
            self.is_feed(request)
            and CACHED_FLAG not in response.flags
            and 200 <= response.status < 300
            and _json_object(response.body)
        ):
            try:
                await maybe_deferred_to_future(
                    deferToThread(self.cache.store, request.url, response.body, datetime.now(UTC))
                )
                self.crawler.stats.inc_value(Stat.FEEDS_STORED)
            except OSError as exc:  # the cache only saves requests: the run goes on
                logger.warning("feed %s could not be kept in the feed cache: %s", request.url, exc)
        return response


def _json_object(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:
        return False
