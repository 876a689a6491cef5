"""Downloader middlewares around the network: capture every exchange into WARC files,
or answer every request from them (replay). Only the transport differs: the spider,
the pipelines and so the archive are the same either way."""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured

from datetime import datetime, timezone

from ..spiders.base import FETCHED_META
from ..warc import WarcIndex, WarcWriter, run_prefix, warcinfo

logger = logging.getLogger(__name__)


def warc_dir(settings) -> Path:
    return Path(settings.get("FINEWS_WARC_DIR") or Path(settings.get("FINEWS_DATA_DIR")) / "warc")


class WarcCaptureMiddleware:
    """Write each request and its response, as received (before decompression), to
    ``<FINEWS_WARC_DIR>/finews-<spider>-<time>-<pid>-<seq>.warc.gz``."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.writer: WarcWriter | None = None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("FINEWS_WARC_CAPTURE") or settings.get("FINEWS_REPLAY"):
            raise NotConfigured  # off, or replaying: the normal cases, so no warning in the log
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def process_response(self, request, response, spider=None):
        if self.writer is None:
            settings = self.crawler.settings
            name = self.crawler.spider.name
            self.writer = WarcWriter(
                warc_dir(settings), run_prefix(name), warcinfo(settings, name), settings.getint("FINEWS_WARC_MAX_BYTES")
            )
        # The capture time is the article's fetched_at, so a replay of this WARC writes
        # the same rows as this crawl.
        fetched = datetime.now(timezone.utc).replace(microsecond=0)
        request.meta[FETCHED_META] = fetched
        protocol = getattr(response, "protocol", None) or "HTTP/1.1"
        self.writer.write_exchange(
            request.method, response.url, request.headers, request.body,
            response.status, response.headers, response.body, protocol=protocol, date=fetched,
        )
        self.crawler.stats.inc_value("finews/warc_records", 2)
        return response

    def spider_closed(self, spider, reason):
        if self.writer is not None:
            self.writer.close()
            logger.info("WARC written: %s", ", ".join(str(p) for p in self.writer.paths))


class WarcReplayMiddleware:
    """With ``FINEWS_REPLAY=<file or folder>``, answer every request from the captured
    responses; a request that was never captured is reported and not sent."""

    def __init__(self, crawler, index: WarcIndex):
        self.crawler, self.index = crawler, index

    @classmethod
    def from_crawler(cls, crawler):
        location = crawler.settings.get("FINEWS_REPLAY")
        if not location:
            raise NotConfigured  # not replaying: the normal case, so no warning in the log
        index = WarcIndex(location)
        logger.info("replaying %d captured responses from %s", len(index), location)
        return cls(crawler, index)

    def process_request(self, request, spider=None):
        captured = self.index.get(request.method, request.url)
        if captured is None:
            self.crawler.stats.inc_value("finews/replay_missing")
            logger.error("replay: %s %s is not in the WARC archive; not sent to the network", request.method, request.url)
            raise IgnoreRequest(f"not in the WARC archive: {request.url}")
        self.crawler.stats.inc_value("finews/replay_hits")
        if captured.date is not None:
            request.meta[FETCHED_META] = captured.date
        return captured.response(request)
