"""Downloader middlewares around the network: capture every exchange into WARC files,
or answer every request from them (replay). Only the transport differs: the spider,
the pipelines and so the archive are the same either way."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from ..asynctools import reactor
from ..config import FinewsConfig, config_for
from ..meta import CACHED_FLAG, FETCHED_AT, REPLAY_CAPTURE
from ..run import COUNTED, Stat
from ..warc import WarcIndex, WarcWriter, run_prefix, warcinfo

logger = logging.getLogger(__name__)


class WarcCaptureMiddleware:
    """Write each request and its response, as received (before decompression), to the
    run's WARC files, ``<FINEWS_WARC_DIR>/finews-<spider>-<host>-<time>-<pid>-<n>.warc.gz``,
    before the response goes on: **the capture is part of the commit**. A response whose
    exchange could not be written (a folder that cannot be written, a full disk) does not
    reach the spider (``IgnoreRequest``: its errback counts it failed), so its article is
    not archived and the next run fetches it again, and captures it. The writes (gzip and
    file I/O) run on a thread of their own, in order, never on the reactor thread."""

    def __init__(self, crawler, config: FinewsConfig):
        self.crawler, self.config = crawler, config
        self.writer: WarcWriter | None = None
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="finews-warc")

    @classmethod
    def from_crawler(cls, crawler):
        config = config_for(crawler)
        if not config.warc_capture or config.replay:
            raise NotConfigured  # off, or replaying: the normal cases, so no warning in the log
        mw = cls(crawler, config)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    async def process_response(self, request, response, spider=None):
        if CACHED_FLAG in response.flags:
            return response  # answered from the feed cache: captured by the run that fetched it
        # The capture time is the article's fetched_at, so a replay of this WARC writes
        # the same rows as this crawl.
        fetched = datetime.now(UTC).replace(microsecond=0)
        request.meta[FETCHED_AT] = fetched
        try:
            writer = self._writer()
            await maybe_deferred_to_future(
                deferToThreadPool(
                    reactor(),
                    self.pool,
                    writer.write_exchange,
                    request.method,
                    response.url,
                    request.headers,
                    request.body,
                    response.status,
                    response.headers,
                    response.body,
                    protocol=getattr(response, "protocol", None) or "HTTP/1.1",
                    date=fetched,
                )
            )
        except Exception as exc:
            raise IgnoreRequest(
                f"the exchange could not be captured in WARC ({type(exc).__name__}: {exc}): not archived, "
                f"fetched again next run"
            ) from exc
        self.crawler.stats.inc_value(Stat.WARC_RECORDS, 2)
        return response

    def _writer(self) -> WarcWriter:
        writer = self.writer
        if writer is None:
            name = self.crawler.spider.name
            writer = self.writer = WarcWriter(
                self.config.warc_dir,
                run_prefix(name),
                warcinfo(self.crawler.settings, name, self.config),
                self.config.warc_max_bytes,
            )
            self.pool.start()
            # A forced stop never closes the spider: the thread must not keep the process alive.
            reactor().addSystemEventTrigger("before", "shutdown", self._stop_pool)
        return writer

    def _stop_pool(self) -> None:
        if self.pool.started and not self.pool.joined:
            self.pool.stop()  # lets the record being written finish: records reach the file whole

    async def spider_closed(self, spider, reason):
        if self.writer is not None:
            self.writer.close()
            self._stop_pool()
            logger.info("WARC written: %s", ", ".join(str(p) for p in self.writer.paths))


class WarcReplayMiddleware:
    """With ``FINEWS_REPLAY=<file or folder>[,<file or folder>…]``, answer every request
    from the captured responses: the latest good capture of its URL (2xx and JSON), so a
    later failure never hides an earlier good answer. A request that was never captured
    is reported (``finews/replay_missing``) and not sent.

    A spider that will ask for only some of the captured article texts says which with
    a method ``replays_text(info_code) -> bool`` (a re-extraction worker: its share); the
    others are left out of the index, whose memory grows with the captures."""

    def __init__(self, crawler, index: WarcIndex):
        self.crawler, self.index = crawler, index

    @classmethod
    def from_crawler(cls, crawler):
        locations = config_for(crawler).replay
        if not locations:
            raise NotConfigured  # not replaying: the normal case, so no warning in the log
        index = WarcIndex(list(locations), keep_text=getattr(crawler.spider, "replays_text", None))
        logger.info("replaying %d captured requests from %s", len(index), ", ".join(map(str, locations)))
        if index.damaged:  # what they held cannot be replayed: the run fails, saying where
            crawler.stats.set_value(Stat.WARC_DAMAGED, len(index.damaged))
            path, offset, error = index.damaged[0]
            logger.error(
                "%d damaged WARC record(s) skipped, the first at %s, offset %d (%s)",
                len(index.damaged),
                path,
                offset,
                error,
                extra=COUNTED,
            )
        return cls(crawler, index)

    def process_request(self, request, spider=None):
        location = request.meta.get(REPLAY_CAPTURE)
        captured = self.index.read(location) if location else self.index.get(request.method, request.url)
        if captured is None:
            self.crawler.stats.inc_value(Stat.REPLAY_MISSING)
            logger.warning(
                "replay: %s %s is not in the WARC archive; not sent to the network", request.method, request.url
            )
            raise IgnoreRequest(f"not in the WARC archive: {request.url}")
        self.crawler.stats.inc_value(Stat.REPLAY_HITS)
        if captured.date is not None:
            request.meta[FETCHED_AT] = captured.date
        return captured.response(request)
