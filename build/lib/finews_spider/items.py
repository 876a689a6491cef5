"""The one item of the project. Read and write it through ``itemadapter``."""

from __future__ import annotations

from datetime import datetime

import scrapy


def _iso(value):
    return value.isoformat() if isinstance(value, datetime) else value


class Article(scrapy.Item):
    """One newspaper article, as the spider scraped it and the pipelines completed it.

    The date fields hold aware ``datetime`` objects; feed exports (``-O x.jsonl``) write
    them as ISO 8601, as the database does.
    """

    info_code = scrapy.Field()  # NW + 18 digits; letters and digits only
    title = scrapy.Field()
    published_at = scrapy.Field(serializer=_iso)  # aware, Asia/Shanghai
    newspaper = scrapy.Field()  # 山西晚报
    slug = scrapy.Field()  # shanxiwanbao
    body_html = scrapy.Field()  # cleaned, ends with the attribution paragraph
    body_text = scrapy.Field()  # the body as plain text (set by the clean pipeline)
    source = scrapy.Field()  # the attribution, e.g. 山西晚报
    editor = scrapy.Field()  # 责任编辑, when credited
    share_url = scrapy.Field()  # the public share page
    fetched_at = scrapy.Field(serializer=_iso)  # aware, UTC
    content_hash = scrapy.Field()  # sha256 of title and cleaned body
    # Decided by the archive when it records the article (see pipelines/publish.py).
    doc_id = scrapy.Field()  # stable integer id (the search index's rowid)
    published_date = scrapy.Field()  # YYYY-MM-DD, Beijing time
    first_seen_at = scrapy.Field()  # first archived (UTC, ISO 8601)
    last_seen_at = scrapy.Field()  # last fetched (UTC, ISO 8601)
    # The securities and boards the service tagged in the body, in order of first appearance:
    # [{"kind": "stock"|"board", "market": "1", "code": "600160", "name": "巨化股份",
    #   "exchange": "SSE"|None}, ...] (cleaning/mentions.py); [] when none.
    mentions = scrapy.Field()

    # Raw date text from upstream, parsed by the validate pipeline; not exported.
    raw_datetime = scrapy.Field()
