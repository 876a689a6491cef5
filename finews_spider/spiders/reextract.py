"""The spider behind ``scrapy reextract``: an ordinary crawl of every captured article,
answered from the WARC captures by the replay middleware (``FINEWS_REPLAY``, set by the
command), through the same parsing code and the same pipelines as any crawl.

It differs from :class:`FinewsSpider` only in what it asks for: every captured feed
response (the latest listing of an article gives its title, date and paper), then the
text of every article that has a good capture, listed or not (share-URL captures are
never listed), each fetched again (``refresh``). It has no ``name`` of its own, so
``scrapy list`` shows only the newspaper spiders; the command names it ``reextract``.
"""

from __future__ import annotations

import zlib

from scrapy import Request, signals
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from .. import settings as project_settings
from ..exceptions import SpiderArgumentError
from ..meta import REPLAY_CAPTURE
from ..middlewares.warc import WarcReplayMiddleware
from ..run import Stat
from .base import FinewsSpider, refuse_unknown_arguments

#: The crawl settings of a re-extraction (spider priority: ``-s`` still overrides them).
#: Every answer comes from the captures, so nothing that spaces, retries or remembers
#: requests for the upstream's sake applies: no delay, no AutoThrottle, no retries (a
#: replayed answer is the same every time), no cookies, robots.txt or HTTP cache. Up to
#: two archive batches of articles (``FINEWS_SQLITE_BATCH_SIZE`` 200) in flight (1000
#: filled every batch, but cost 35 MB more for no measurable speed). A text response has
#: one item: one task per response (``CONCURRENT_ITEMS``).
REEXTRACT_SETTINGS = {
    "CONCURRENT_REQUESTS": 400,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 400,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "RETRY_ENABLED": False,
    "COOKIES_ENABLED": False,
    "ROBOTSTXT_OBEY": False,
    "HTTPCACHE_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "MEMUSAGE_ENABLED": False,
    "CONCURRENT_ITEMS": 1,
    # Spider middlewares that only act on requests a callback yields: a re-extraction's
    # callbacks yield items only (its requests come from start()), and it skips nothing
    # archived (it refreshes everything). The referer one stays: without it Scrapy's
    # redirect middleware warns on every run.
    "SPIDER_MIDDLEWARES": {
        **project_settings.SPIDER_MIDDLEWARES,
        "finews_spider.middlewares.incremental.SkipArchivedMiddleware": None,
        "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
        "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
        "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
    },
    # Downloader middlewares that only shape what is sent over the network, or look for
    # an HTML refresh in a page: a replayed answer needs none of them (an eighth of the
    # framework's cost per article). Decompression, redirects (a capture can be a 3xx whose
    # target was captured too) and the download stats (the verdict's requests=) stay.
    "DOWNLOADER_MIDDLEWARES": {
        **project_settings.DOWNLOADER_MIDDLEWARES,  # a spider's dict replaces the project's
        "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
        "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
        "scrapy.downloadermiddlewares.downloadtimeout.DownloadTimeoutMiddleware": None,
        "scrapy.downloadermiddlewares.defaultheaders.DefaultHeadersMiddleware": None,
        "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
        "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
        "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
        "finews_spider.middlewares.feedcache.FeedCacheMiddleware": None,
    },
}


class ReextractSpider(FinewsSpider):
    custom_settings = REEXTRACT_SETTINGS

    def __init__(self, *args, shard: str = "0/1", **kwargs):
        refuse_unknown_arguments(kwargs, ("since", "until"))
        kwargs.setdefault("name", "reextract")
        super().__init__(*args, refresh="1", **kwargs)
        try:
            self.shard, self.shards = (int(x) for x in shard.split("/"))
            assert 0 <= self.shard < self.shards
        except (ValueError, AssertionError):
            raise SpiderArgumentError(f"shard must be I/N with 0 <= I < N, not {shard!r}") from None
        self.listings: dict[str, tuple] = {}  # infoCode -> (capture number, *the record's values)
        self.record_fields: tuple[str, ...] = ()  # the keys of those values
        self.texts: set[str] = set()  # the infoCodes with a captured text (the replay index's)
        self.feeds_pending = 0
        self.feeds_done: Deferred | None = None
        # Text requests given to the engine and not answered yet: at most twice what is in
        # flight (CONCURRENT_REQUESTS), so the downloader never waits for start(). Scrapy
        # takes everything start() yields into its scheduler at once, and a share of a big
        # archive would sit there as Request objects (a kilobyte or so each).
        self.texts_unanswered = 0
        self.queued_texts = 800
        self.room: Deferred | None = None  # fired when an answer makes room again

    def mine(self, info_code: str) -> bool:
        """Whether the article belongs to this worker's shard (by a hash of its infoCode)."""
        return self.shards == 1 or zlib.crc32(info_code.encode()) % self.shards == self.shard

    replays_text = mine  # the texts the replay middleware indexes for this worker

    def wants(self, record: dict) -> bool:
        return self.mine(record["info_code"]) and super().wants(record)

    async def start(self):
        replay = self.crawler.get_downloader_middleware(WarcReplayMiddleware)
        if replay is None:
            raise SpiderArgumentError("re-extraction needs FINEWS_REPLAY (the WARC files to read)")
        index = replay.index
        self.texts = index.texts
        self.queued_texts = 2 * max(1, self.crawler.settings.getint("CONCURRENT_REQUESTS"))
        self.feeds_pending = len(index.feeds)
        self.feeds_done = Deferred()
        if not self.feeds_pending:
            self.feeds_done.callback(None)
        for number, location in enumerate(index.feeds):
            yield Request(
                index.feed_url_of(location),
                callback=self.parse_feed,
                errback=self.feed_failed,
                dont_filter=True,
                cb_kwargs={"capture": number},
                meta={REPLAY_CAPTURE: location},
            )
        await maybe_deferred_to_future(self.feeds_done)
        for code in sorted(index.texts):  # this worker's share only (replays_text)
            listing = self.listings.pop(code, None)
            record = {"info_code": code} if listing is None else dict(zip(self.record_fields, listing[1:]))
            self.crawler.stats.inc_value(Stat.ARTICLES_REQUESTED)
            request = self._text_request(record)
            request.dont_filter = True  # each captured code once (a set): no fingerprint to compute and keep
            while self.texts_unanswered >= self.queued_texts:
                self.room = Deferred()
                await maybe_deferred_to_future(self.room)
            self.texts_unanswered += 1
            yield request

    def parse_feed(self, response, capture: int = 0):
        """Remember each record of this feed capture; the latest capture of an article's
        listing wins, whatever order the captures are answered in."""
        try:
            for record in self.feed_records(response):
                code = record["info_code"]
                if code not in self.texts:
                    continue  # its text was never captured: never asked for
                known = self.listings.get(code)
                if known is None or known[0] < capture:
                    # A tuple, not the dict: a share of a big archive holds many.
                    self.listings[code] = (capture, *record.values())
                    self.record_fields = tuple(record)
        finally:
            self._feed_handled()
        return ()

    def feed_failed(self, failure):
        try:
            super().feed_failed(failure)
        finally:
            self._feed_handled()

    def _feed_handled(self) -> None:
        self.feeds_pending -= 1
        if self.feeds_pending == 0 and self.feeds_done is not None and not self.feeds_done.called:
            self.feeds_done.callback(None)

    def text_failed(self, failure):
        try:
            super().text_failed(failure)
        finally:
            self._text_answered()

    def _response_received(self, response, request, spider=None):
        if request.callback == self.parse_text:
            self._text_answered()

    def _request_dropped(self, request, spider=None):
        if request.callback == self.parse_text:
            self._text_answered()  # the scheduler refused it: no answer will come

    def _text_answered(self) -> None:
        """One text request less waiting (a response, or a failure without one; a redirect
        or an HTTP error may count twice, which only lets one more in)."""
        self.texts_unanswered = max(0, self.texts_unanswered - 1)
        if self.texts_unanswered < self.queued_texts:
            self._make_room()

    def _make_room(self) -> None:
        """Let a start() waiting for room go on."""
        if self.room is not None:
            room, self.room = self.room, None
            room.callback(None)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._response_received, signal=signals.response_received)
        crawler.signals.connect(spider._request_dropped, signal=signals.request_dropped)
        return spider

    def _closed(self, spider, reason):
        if self.feeds_done is not None and not self.feeds_done.called:
            self.feeds_done.callback(None)  # let start() finish if the run stops early
        self.texts_unanswered = 0
        self._make_room()
