from __future__ import annotations

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's ``RetryMiddleware`` (5xx, timeouts, connection resets, ``RETRY_TIMES``)
    with exponential backoff: the n-th retry of a request waits
    ``FINEWS_RETRY_BACKOFF_BASE * 2**(n-1)`` seconds, at most ``FINEWS_RETRY_BACKOFF_MAX``."""

    def __init__(self, settings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("FINEWS_RETRY_BACKOFF_BASE")
        self.backoff_max = settings.getfloat("FINEWS_RETRY_BACKOFF_MAX")

    def backoff(self, retry_times: int) -> float:
        return min(self.backoff_max, self.backoff_base * 2 ** max(0, retry_times - 1))

    async def _wait(self, result):
        if isinstance(result, Request) and self.backoff_base > 0:
            delay = self.backoff(result.meta.get("retry_times", 1))
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return result

    async def process_response(self, request, response, spider=None):
        return await self._wait(super().process_response(request, response))

    async def process_exception(self, request, exception, spider=None):
        return await self._wait(super().process_exception(request, exception))
