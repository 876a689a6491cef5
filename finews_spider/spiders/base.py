"""The one spider code path: feed -> text request per article -> ``Article``.

A spider only turns responses into items and requests; what is already archived is
skipped by ``SkipArchivedMiddleware`` (the spider marks the requests it may skip), and
everything is written by the archive, through the pipelines.
"""

from __future__ import annotations

import difflib
import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy import signals

from ..cleaning import parse_published_at
from ..cleaning.dates import parse_day
from ..cleaning.names import normalize_newspaper_name
from ..config import BOOLEAN_WORDS, config_for, parse_bool
from ..distributed.fleet import Fleet
from ..exceptions import SpiderArgumentError
from ..extensions.archive import ArchiveExtension
from ..items import Article
from ..meta import FETCHED_AT, SKIP_IF_ARCHIVED
from ..run import COUNTED, Stat, dropped_stat
from ..upstream import (
    UpstreamFormatError,
    feed_url,
    info_code_from_share_url,
    parse_feed,
    parse_text,
    share_url,
    text_url,
)

logger = logging.getLogger(__name__)


def parse_refresh(value) -> bool | None:
    """The ``refresh`` argument: ``None`` when not given, else a boolean word."""
    if value is None:
        return None
    try:
        return parse_bool(value)
    except ValueError:
        raise SpiderArgumentError(f"refresh={value!r}: accepts {BOOLEAN_WORDS}") from None


def parse_window(since: str | None, until: str | None) -> tuple[date | None, date | None]:
    """The ``since``/``until`` arguments (``YYYY-MM-DD``, inclusive Beijing dates) as
    dates; :class:`SpiderArgumentError` for a bad date or ``since`` after ``until``.

    >>> parse_window("2021-12-01", None)
    (datetime.date(2021, 12, 1), None)
    """
    out: list[date | None] = []
    for name, value in (("since", since), ("until", until)):
        try:
            out.append(None if value is None else parse_day(value, name))
        except ValueError as exc:
            raise SpiderArgumentError(str(exc)) from None
    if out[0] and out[1] and out[0] > out[1]:
        raise SpiderArgumentError(f"since={since!r} is after until={until!r}: the window would be empty")
    return out[0], out[1]


#: The spider arguments (``-a name=value``) of :class:`FinewsSpider`.
ARGUMENTS = ("urls", "url_file", "refresh", "since", "until")


def refuse_unknown_arguments(given: dict, known: tuple[str, ...]) -> None:
    """:class:`SpiderArgumentError` for a spider argument that is not one of ``known``
    (a misspelling such as ``sinse=2021-12-01`` would otherwise be ignored, and the run
    go unwindowed), naming the closest one."""
    for name in sorted(set(given) - set(known) - {"name"}):
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise SpiderArgumentError(
            f"{name}={given[name]!r} is not an argument of this spider{hint} (arguments: {', '.join(known)})"
        )


def refusal(failure) -> tuple[str, str] | None:
    """``(reason, message)`` when a request failed because its answer is not to be used
    whatever the next run does: larger than ``DOWNLOAD_MAXSIZE`` (decompressed too); ``None`` for a
    failure that another run may not meet (a timeout, a reset, a 5xx). (A redirect to
    another host never reaches an errback: see :meth:`FinewsSpider.request_dropped`.)"""
    message = failure.getErrorMessage()
    if "max size" in message or "DOWNLOAD_MAXSIZE" in message:
        return "too_large", message
    return None


def describes(record: dict, fields: dict) -> bool:
    """Whether a feed record and a text response together say what the article is: a
    title, a date and a newspaper."""
    return all(record.get(key) or fields.get(key) for key in ("title", "datetime", "newspaper"))


def in_window(published: date, since: date | None, until: date | None) -> bool:
    """Whether a Beijing publication date falls in the inclusive window."""
    return (since is None or published >= since) and (until is None or published <= until)


class FinewsSpider(scrapy.Spider):
    """Archive the articles of ``newspaper`` (every newspaper when it is ``None``).

    Arguments (``-a name=value``): ``urls`` (comma-separated share-page URLs) or
    ``url_file`` (one URL per line, ``#`` comments) archive those articles without
    reading the feed; ``refresh=1`` re-fetches articles already archived.
    """

    newspaper: str | None = None
    allowed_domains: list[str] = []  # the upstream's hosts, set when built (from_crawler)
    reads_feeds = True  # False for spiders that never read the feed (reextract)

    def __init__(
        self,
        *args,
        urls: str | None = None,
        url_file: str | None = None,
        refresh=None,
        since: str | None = None,
        until: str | None = None,
        **kwargs,
    ):
        refuse_unknown_arguments(kwargs, ARGUMENTS)
        super().__init__(*args, **kwargs)
        self.share_urls: list[str] | None = None
        if urls is not None or url_file is not None:
            self.share_urls = [u.strip() for u in (urls or "").split(",") if u.strip()]
            if url_file is not None:
                try:
                    lines = Path(url_file).read_text(encoding="utf-8").splitlines()
                except (OSError, UnicodeDecodeError) as exc:
                    raise SpiderArgumentError(f"url_file {url_file!r} cannot be read: {exc}") from None
                self.share_urls += [
                    line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")
                ]
            if not self.share_urls:
                raise SpiderArgumentError("urls / url_file given, but no URL in them")
        self.refresh = parse_refresh(refresh)
        self.since, self.until = parse_window(since, until)
        self.listed: set[str] = set()  # infoCodes seen in this run's feeds
        # Share links whose text does not describe the article wait for the feeds.
        self.awaiting: dict[str, tuple[dict, dict, datetime]] = {}
        self.lookup_feeds: dict | None = None  # {"pending": n, "failed": [...]} once requested
        self.lookup_index: dict[str, dict] = {}  # infoCode -> feed record, from those feeds

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        config = config_for(crawler)
        if spider.refresh is None:
            spider.refresh = config.refresh
        # Only the upstream's hosts: a redirect elsewhere is not followed (Scrapy's offsite
        # filter drops it as it is scheduled, silently: no errback, no request_dropped).
        spider.allowed_domains = sorted({urlsplit(url).hostname or "" for url in (config.feed_url, config.text_url)})
        crawler.signals.connect(spider.request_scheduled, signal=signals.request_scheduled)
        return spider

    def request_scheduled(self, request, spider=None):
        """A text request to another host (a redirect, which the offsite filter drops as
        it is scheduled) is the article's outcome: dropped, ``offsite_redirect``."""
        record = request.cb_kwargs.get("record")
        host = urlsplit(request.url).hostname
        if request.callback != self.parse_text or record is None or host in self.allowed_domains:
            return
        self.crawler.stats.inc_value(Stat.ARTICLES_DROPPED)
        self.crawler.stats.inc_value(dropped_stat("offsite_redirect"))
        logger.warning(
            "article %s dropped (offsite_redirect): the upstream redirected to %s", record["info_code"], request.url
        )

    # -- requests --------------------------------------------------------------------
    async def start(self):
        config = config_for(self.crawler)
        if self.share_urls is not None:
            for request in self._share_requests():
                yield request
            return
        if not self.reads_feeds_this_run():
            return
        for market_type in config.market_types:
            url = feed_url(config.feed_url, market_type, config.feed_count)
            self.crawler.stats.inc_value(Stat.FEEDS_REQUESTED)
            # dont_filter: feeds are read on every run, a resumed JOBDIR run included.
            yield scrapy.Request(url, callback=self.parse_feed, errback=self.feed_failed, dont_filter=True)

    def reads_feeds_this_run(self) -> bool:
        """False on a fleet worker that joined a run another worker opened: that one
        reads the feeds, once for the whole fleet (``distributed/fleet.py``)."""
        fleet = self.crawler.get_extension(Fleet) if config_for(self.crawler).fleet_worker else None
        return fleet is None or fleet.reads_feeds

    def _share_requests(self):
        stats = self.crawler.stats
        for url in self.share_urls or ():
            try:
                code = info_code_from_share_url(url)
            except ValueError as exc:
                stats.inc_value(Stat.SHARE_URL_INVALID)
                stats.inc_value(Stat.ERRORS)
                logger.error("skipping share URL: %s", exc, extra=COUNTED)
                continue
            stats.inc_value(Stat.ARTICLES_REQUESTED)
            yield self._text_request({"info_code": code})

    def _text_request(self, record: dict, listed: bool = False) -> scrapy.Request:
        """The text request of an article; ``record`` is its feed record (or only its
        ``info_code``). A ``listed`` one may be skipped when archived as listed."""
        url = text_url(config_for(self.crawler).text_url, record["info_code"])
        meta = {SKIP_IF_ARCHIVED: record} if listed and not self.refresh else {}
        return scrapy.Request(
            url, callback=self.parse_text, errback=self.text_failed, cb_kwargs={"record": record}, meta=meta
        )

    def wants(self, record: dict) -> bool:
        return self.newspaper is None or normalize_newspaper_name(record.get("newspaper")) == self.newspaper

    # -- responses -------------------------------------------------------------------
    def feed_records(self, response) -> list[dict]:
        """The records of a feed response that this spider wants, each with an infoCode
        (counted under ``finews/feeds_*`` and ``finews/feed_records*``)."""
        stats = self.crawler.stats
        try:
            records = parse_feed(json.loads(response.text))
        except (ValueError, UpstreamFormatError) as exc:
            stats.inc_value(Stat.FEEDS_INVALID)
            stats.inc_value(Stat.ERRORS)
            logger.error("feed %s is not a valid listing: %s", response.url, exc, extra=COUNTED)
            return []
        stats.inc_value(Stat.FEEDS_OK)
        stats.inc_value(Stat.FEED_RECORDS, len(records))
        if records:
            stats.inc_value(Stat.FEEDS_NONEMPTY)
        wanted = []
        for record in records:
            if not record.get("info_code"):
                stats.inc_value(Stat.FEED_RECORDS_INVALID)
                stats.inc_value(Stat.ERRORS)
                logger.error(
                    "feed %s: a record without infoCode cannot be archived: %r", response.url, record, extra=COUNTED
                )
            elif self.wants(record):
                wanted.append(record)
        return wanted

    def parse_feed(self, response):
        stats = self.crawler.stats
        for record in self.feed_records(response):
            if record["info_code"] in self.listed:
                stats.inc_value(Stat.FEED_RECORDS_REPEATED)  # listed in several feeds: fetched once
                continue
            self.listed.add(record["info_code"])
            if not self.in_window(record.get("datetime"), record["info_code"]):
                continue
            stats.inc_value(Stat.ARTICLES_LISTED)
            yield self._text_request(record, listed=True)

    async def parse_text(self, response, record: dict):
        try:
            fields = parse_text(json.loads(response.text))
        except (ValueError, UpstreamFormatError) as exc:
            self.crawler.stats.inc_value(Stat.TEXT_INVALID)
            self.crawler.stats.inc_value(Stat.ERRORS)
            logger.error(
                "article %s: text response is not valid (%s); it will be retried next run",
                record["info_code"],
                exc,
                extra=COUNTED,
            )
            return
        fetched = response.meta.get(FETCHED_AT) or datetime.now(UTC).replace(microsecond=0)
        if not describes(record, fields):
            # A share link whose text does not say what the article is: the archive, or
            # this run's feeds (read now, once), may.
            known = await self.described_by_archive(record["info_code"])
            if known is None:
                self.awaiting[record["info_code"]] = (record, fields, fetched)
                for request in self._lookup_feed_requests():
                    yield request
                for article in self._resolve_awaiting():
                    yield article
                return
            record = {**known, **{k: v for k, v in record.items() if v}}
        article = self.finish_article(record, fields, fetched)
        if article is not None:
            yield article

    def finish_article(self, record: dict, fields: dict, fetched: datetime) -> Article | None:
        """The article of a text response, or ``None`` when its date is outside the window."""
        article = self.build_article(record, fields, fetched)
        if not self.in_window(article.get("raw_datetime"), record["info_code"]):
            # A share link (or a record without a date): only the text told the date. The
            # article was asked for, so this is its outcome.
            self.crawler.stats.inc_value(Stat.ARTICLES_OUTSIDE_WINDOW)
            return None
        return article

    # -- share links whose text does not describe the article ---------------------------
    async def described_by_archive(self, info_code: str) -> dict | None:
        """The feed-record fields (title, datetime, newspaper) the archive holds for an
        article, or ``None``."""
        try:
            archive = self.crawler.get_extension(ArchiveExtension)
        except (RuntimeError, AttributeError):  # a crawler without extensions (unit tests)
            archive = None
        if archive is None or not archive.remembers:
            return None
        known = await archive.describe(info_code)
        if known is not None:
            self.crawler.stats.inc_value(Stat.DESCRIBED_BY_ARCHIVE)
        return known

    def _lookup_feed_requests(self):
        """The feed requests that may describe the awaited share links: once per run."""
        if self.lookup_feeds is not None:
            return
        config = config_for(self.crawler)
        self.lookup_feeds = {"pending": len(config.market_types), "failed": []}
        for market_type in config.market_types:
            self.crawler.stats.inc_value(Stat.LOOKUP_FEEDS_REQUESTED)
            yield scrapy.Request(
                feed_url(config.feed_url, market_type, config.feed_count),
                callback=self.parse_lookup_feed,
                errback=self.lookup_feed_failed,
                dont_filter=True,
            )

    def parse_lookup_feed(self, response):
        lookup = self.lookup_feeds
        assert lookup is not None, "set before its requests"
        try:
            records = parse_feed(json.loads(response.text))
        except (ValueError, UpstreamFormatError) as exc:
            lookup["failed"].append(f"{response.url}: {exc}")
            records = []
        for record in records:
            if record.get("info_code"):
                self.lookup_index.setdefault(record["info_code"], record)
        lookup["pending"] -= 1
        yield from self._resolve_awaiting()

    def lookup_feed_failed(self, failure):
        lookup = self.lookup_feeds
        assert lookup is not None, "set before its requests"
        lookup["failed"].append(f"{failure.request.url}: {failure.getErrorMessage()}")
        lookup["pending"] -= 1
        logger.warning(
            "feed %s, read to describe share links, failed: %s", failure.request.url, failure.getErrorMessage()
        )
        yield from self._resolve_awaiting()

    def _resolve_awaiting(self):
        """Once every lookup feed answered: the awaited articles the feeds describe, and
        the others dropped (``no_title``) with the reason."""
        if self.lookup_feeds is None or self.lookup_feeds["pending"] > 0:
            return
        stats = self.crawler.stats
        for code, (record, fields, fetched) in list(self.awaiting.items()):
            del self.awaiting[code]
            listed = self.lookup_index.get(code)
            if listed is not None:
                stats.inc_value(Stat.DESCRIBED_BY_FEED)
                article = self.finish_article({**listed, **{k: v for k, v in record.items() if v}}, fields, fetched)
                if article is not None:
                    yield article
                continue
            message = "the text endpoint gave no title and neither the feeds nor the archive list this article"
            if self.lookup_feeds["failed"]:
                message += f" (feeds not read: {'; '.join(self.lookup_feeds['failed'])})"
            stats.inc_value(Stat.ARTICLES_DROPPED)
            stats.inc_value(dropped_stat("no_title"))
            logger.warning("article %r dropped (no_title): %s", code, message)

    def in_window(self, raw_datetime: str | None, info_code: str) -> bool:
        """Whether an article dated ``raw_datetime`` is in the ``since``/``until`` window;
        one outside it is counted and logged. An unparseable or missing date is let
        through: validation drops it with its own reason."""
        if self.since is None and self.until is None:
            return True
        try:
            published = parse_published_at(raw_datetime).date()
        except ValueError:
            return True
        if in_window(published, self.since, self.until):
            return True
        self.crawler.stats.inc_value(Stat.RECORDS_OUTSIDE_WINDOW)
        logger.debug(
            "article %s (%s) is outside the window %s..%s: skipped", info_code, published, self.since, self.until
        )
        return False

    def build_article(self, record: dict, fields: dict, fetched_at: datetime) -> Article:
        """Join a feed record (may be only ``info_code``) and the text fields. The feed's
        title and date win; the text endpoint fills what the feed did not give."""
        name = record.get("newspaper") or fields.get("newspaper") or self.newspaper
        return Article(
            info_code=record["info_code"],
            title=record.get("title") or fields.get("title"),
            raw_datetime=record.get("datetime") or fields.get("datetime"),
            newspaper=name,
            body_html=fields.get("body_html"),
            share_url=share_url(config_for(self.crawler).share_url, record["info_code"]),
            fetched_at=fetched_at,
        )

    # -- failures --------------------------------------------------------------------
    def feed_failed(self, failure):
        self.crawler.stats.inc_value(Stat.FEEDS_FAILED)
        self.crawler.stats.inc_value(Stat.ERRORS)
        logger.error("feed %s failed: %s", failure.request.url, failure.getErrorMessage(), extra=COUNTED)

    def text_failed(self, failure):
        record = failure.request.cb_kwargs["record"]
        refused = refusal(failure)
        if refused is not None:  # the upstream's answer cannot be used, now or later: set aside
            reason, why = refused
            self.crawler.stats.inc_value(Stat.ARTICLES_DROPPED)
            self.crawler.stats.inc_value(dropped_stat(reason))
            logger.warning("article %s dropped (%s): %s", record["info_code"], reason, why)
            return
        self.crawler.stats.inc_value(Stat.TEXT_FAILED)
        self.crawler.stats.inc_value(Stat.ERRORS)
        logger.error(
            "article %s: text request failed (%s); it will be retried next run",
            record["info_code"],
            failure.getErrorMessage(),
            extra=COUNTED,
        )
