"""The spider behind ``scrapy reextract``: articles rebuilt from captured responses,
through the same parsing code (:class:`FinewsSpider`) and the same pipelines as a crawl,
without a single request. It has no ``name`` of its own, so ``scrapy list`` shows only
the newspaper spiders; the command names it ``reextract``."""

from __future__ import annotations

import zlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from scrapy import Request
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes

from ..middlewares.warc import warc_dir
from ..warc import WarcIndex
from .base import FETCHED_META, RECORD_META, FinewsSpider


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
            raise ValueError(f"shard must be I/N with 0 <= I < N, not {shard!r}") from None

    def mine(self, info_code: str) -> bool:
        return self.shards == 1 or zlib.crc32(info_code.encode()) % self.shards == self.shard

    async def start(self):
        location = Path(self.warc) if self.warc else warc_dir(self.crawler.settings)
        index = WarcIndex(location)
        records: dict[str, dict] = {}
        for url, path, offset in index.feed_captures():
            for request in self.parse_feed(self._response(url, index.read(path, offset, decoded=True))):
                record = request.meta[RECORD_META]
                records[record["info_code"]] = record  # the latest capture wins
        for url, path, offset in index.text_captures():
            code = parse_qs(urlsplit(url).query)["id"][0]
            if not self.mine(code):
                continue
            record = records.get(code, {"info_code": code})
            self.crawler.stats.inc_value("finews/articles_requested")
            captured = index.read(path, offset, decoded=True)
            response = self._response(url, captured, {RECORD_META: record, FETCHED_META: captured.date})
            for item in self.parse_text(response):
                yield item

    @staticmethod
    def _response(url, captured, meta=None):
        headers = Headers(captured.headers)
        cls = responsetypes.from_args(headers=headers, url=url, body=captured.body)
        return cls(url=url, status=captured.status, headers=headers, body=captured.body,
                   request=Request(url, meta=meta or {}))
