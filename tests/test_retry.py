"""Retries with backoff: the retry leaves the download slot at once, marked with the time
before which it must not be sent (Scrapy's own crawler, no mocks of Scrapy). The wait
itself is exercised by the crawl tests of test_faults.py (5xx, hangs, resets)."""

import time

from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from finews_spider import settings as project_settings
from finews_spider.meta import NOT_BEFORE
from finews_spider.middlewares.retry import BackoffRetryMiddleware
from finews_spider.spiders.finews import AllNewspapersSpider


def middleware(**settings):
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.startswith("FINEWS_")}
    crawler = get_crawler(AllNewspapersSpider, settings_dict={**values, **settings})
    crawler.spider = AllNewspapersSpider.from_crawler(crawler)
    return BackoffRetryMiddleware.from_crawler(crawler)


def test_backoff_doubles_up_to_the_maximum():
    mw = middleware(FINEWS_RETRY_BACKOFF_BASE="1.5", FINEWS_RETRY_BACKOFF_MAX="5")
    assert [mw.backoff(n) for n in (1, 2, 3, 4)] == [1.5, 3.0, 5.0, 5.0]


def test_a_retry_is_returned_at_once_marked_with_when_it_may_be_sent():
    mw = middleware(FINEWS_RETRY_BACKOFF_BASE="0.3", RETRY_TIMES="2")
    request = Request("http://127.0.0.1/x")
    started = time.monotonic()
    retry = mw.process_response(request, Response(request.url, status=503, request=request))
    assert isinstance(retry, Request) and time.monotonic() - started < 0.1  # the slot is free now
    assert retry.meta["retry_times"] == 1 and retry.meta[NOT_BEFORE] >= started + 0.3
    second = mw.process_response(retry, Response(request.url, status=503, request=retry))
    assert second.meta[NOT_BEFORE] >= time.monotonic() + 0.5  # 0.3 * 2
    given_up = mw.process_response(second, Response(request.url, status=503, request=second))
    assert isinstance(given_up, Response)  # RETRY_TIMES=2: the errback counts the failure


def test_no_backoff_when_the_base_is_zero():
    mw = middleware(FINEWS_RETRY_BACKOFF_BASE="0")
    request = Request("http://127.0.0.1/x")
    retry = mw.process_response(request, Response(request.url, status=500, request=request))
    assert NOT_BEFORE not in retry.meta
