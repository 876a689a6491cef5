"""Retries with exponential backoff that hold no download slot while they wait."""

from __future__ import annotations

import time

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware

from ..asynctools import sleep
from ..config import config_for
from ..meta import NOT_BEFORE


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's ``RetryMiddleware`` (5xx, timeouts, connection resets, ``RETRY_TIMES``)
    with exponential backoff: the n-th retry of a request waits
    ``FINEWS_RETRY_BACKOFF_BASE * 2**(n-1)`` seconds, at most ``FINEWS_RETRY_BACKOFF_MAX``.

    The retry goes back to the scheduler at once, so the failed download's slot is free
    for other requests; the wait happens when the retry comes round again, before it
    reaches the host's download slot."""

    def __init__(self, settings, backoff_base: float = 1.0, backoff_max: float = 30.0):
        super().__init__(settings)
        self.backoff_base, self.backoff_max = backoff_base, backoff_max

    @classmethod
    def from_crawler(cls, crawler):
        config = config_for(crawler)
        middleware = cls(crawler.settings, config.retry_backoff_base, config.retry_backoff_max)
        middleware.crawler = crawler
        return middleware

    def backoff(self, retry_times: int) -> float:
        return min(self.backoff_max, self.backoff_base * 2 ** max(0, retry_times - 1))

    def _schedule(self, result):
        if isinstance(result, Request) and self.backoff_base > 0:
            result.meta[NOT_BEFORE] = time.monotonic() + self.backoff(result.meta.get("retry_times", 1))
        return result

    async def process_request(self, request, spider=None):
        # At most the longest backoff: on a fleet (FINEWS_REDIS_URL) the retry may come
        # round on another machine, whose monotonic clock is not this one's.
        wait = min(request.meta.get(NOT_BEFORE, 0) - time.monotonic(), self.backoff_max)
        if wait > 0:
            await sleep(wait)
        return None

    def process_response(self, request, response, spider=None):
        return self._schedule(super().process_response(request, response))

    def process_exception(self, request, exception, spider=None):
        return self._schedule(super().process_exception(request, exception))
