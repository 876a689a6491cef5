"""The spider behind ``scrapy reextract``: articles rebuilt from captured responses,
through the same parsing code (:class:`FinewsSpider`) and the same pipelines as a crawl,
without a single request. It has no ``name`` of its own, so ``scrapy list`` shows only
the newspaper spiders; the command names it ``reextract``."""

from __future__ import annotations

import json
import logging
import sys
import zlib
from pathlib import Path

from scrapy import Request

from ..exceptions import SpiderArgumentError
from ..middlewares.warc import warc_dir
from ..upstream import UpstreamFormatError, parse_feed
from ..warc import CaptureScan
from .base import FETCHED_META, RECORD_META, FinewsSpider

logger = logging.getLogger(__name__)


class ReextractSpider(FinewsSpider):
    reads_feeds = False

    def __init__(self, *args, warc: str | None = None, shard: str = "0/1", **kwargs):
        kwargs.setdefault("name", "reextract")
        super().__init__(*args, refresh="1", **kwargs)
        self.warc = warc
        try:
            self.shard, self.shards = (int(x) for x in shard.split("/"))
            assert 0 <= self.shard < self.shards
        except (ValueError, AssertionError):
            raise SpiderArgumentError(f"shard must be I/N with 0 <= I < N, not {shard!r}") from None

    def mine(self, info_code: str) -> bool:
        return self.shards == 1 or zlib.crc32(info_code.encode()) % self.shards == self.shard

    async def start(self):
        location = Path(self.warc) if self.warc else warc_dir(self.crawler.settings)
        scan = CaptureScan(location)
        stats = self.crawler.stats
        # Feed metadata of this shard's articles, as compact tuples: the latest capture wins.
        listed: dict[str, tuple] = {}
        for file_no, offset in scan.feeds:
            try:
                records = parse_feed(json.loads(scan.read(file_no, offset).body))
            except (ValueError, UpstreamFormatError) as exc:
                stats.inc_value("finews/feeds_invalid")
                logger.warning("captured feed in %s at %d is not a valid listing: %s", scan.paths[file_no], offset, exc)
                continue
            for r in records:
                if r["info_code"] and self.mine(r["info_code"]) and self.wants(r):
                    listed[r["info_code"]] = (r["title"], r["datetime"], sys.intern(r["newspaper"] or ""))
        for code, (file_no, offset) in scan.texts.items():
            if not self.mine(code):
                continue
            record = {"info_code": code}  # a share-URL capture has no listing: the text tells
            if code in listed:
                record["title"], record["datetime"], record["newspaper"] = listed.pop(code)
            stats.inc_value("finews/articles_requested")
            captured = scan.read(file_no, offset)
            response = captured.response(Request(captured.url, meta={RECORD_META: record, FETCHED_META: captured.date}))
            for item in self.parse_text(response):
                yield item
