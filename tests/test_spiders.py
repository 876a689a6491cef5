"""Every spider on saved upstream responses (the City Scrapers way): each newspaper
spider asks only for its own articles, and builds the item from the responses.

The responses are the bundled sample's; the crawler comes from Scrapy's own
``get_crawler``, so settings and stats are real."""

import asyncio
import json

import pytest
from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.spider import iter_spider_classes
from scrapy.utils.test import get_crawler

from finews_spider import settings as project_settings
from finews_spider.registry import Registry
from finews_spider.spiders import newspapers
from finews_spider.spiders.base import FinewsSpider
from finews_spider.spiders.finews import AllNewspapersSpider
from tests.conftest import SAMPLE_UPSTREAM

SETTINGS = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
SETTINGS.update(EXTENSIONS={}, FINEWS_LOCK=False)  # no run here: nothing to lock or summarise
SPIDERS = sorted(iter_spider_classes(newspapers), key=lambda cls: cls.name)


def spider_of(cls, **kwargs) -> FinewsSpider:
    return cls.from_crawler(get_crawler(cls, SETTINGS), **kwargs)


def response(url: str, payload, meta=None) -> TextResponse:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return TextResponse(url=url, body=body, encoding="utf-8", request=Request(url, meta=meta or {}))


def every_paper_feed():
    """A feed listing one article of every registered paper and one unregistered."""
    papers = Registry.load().papers
    records = [
        {"infoCode": f"NW{i:018d}", "title": f"{p.name}的新闻", "datetime": "2021-12-23 07:25:33", "medianame": p.name}
        for i, p in enumerate(papers)
    ]
    records.append(
        {"infoCode": "NW999", "title": "运城新闻", "datetime": "2021-12-23 07:25:33", "medianame": "运城日报"}
    )
    return {"record": records}


def test_one_spider_per_registered_newspaper():
    assert [cls.name for cls in SPIDERS] == sorted(p.slug for p in Registry.load().papers)


@pytest.mark.parametrize("cls", SPIDERS, ids=lambda cls: cls.name)
def test_newspaper_spider_requests_only_its_articles(cls):
    spider = spider_of(cls)
    requests = list(spider.parse_feed(response("http://feed/?marketType=37&count=100", every_paper_feed())))
    assert len(requests) == 1
    record = requests[0].cb_kwargs["record"]
    assert record["newspaper"] == cls.newspaper
    assert requests[0].url == f"{SETTINGS['FINEWS_TEXT_URL']}?id={record['info_code']}"


def collect(results) -> list:
    """The outputs of a callback that is an async generator (``parse_text``)."""

    async def gather():
        return [output async for output in results]

    return asyncio.run(gather())


def test_catch_all_spider_requests_every_article():
    spider = spider_of(AllNewspapersSpider)
    requests = list(spider.parse_feed(response("http://feed/?marketType=37&count=100", every_paper_feed())))
    assert len(requests) == len(Registry.load().papers) + 1


def test_spider_builds_the_article_from_saved_responses():
    spider = spider_of(next(cls for cls in SPIDERS if cls.name == "shanxiwanbao"))
    feed = json.loads((SAMPLE_UPSTREAM / "feed-marketType-37.json").read_text("utf-8"))
    [first, *rest] = list(spider.parse_feed(response("http://feed/?marketType=37&count=100", feed)))
    code = first.cb_kwargs["record"]["info_code"]
    text = (SAMPLE_UPSTREAM / f"text-{code}.json").read_bytes()
    [item] = collect(spider.parse_text(response(first.url, text, first.meta), **first.cb_kwargs))
    assert item["info_code"] == code and item["newspaper"] == "山西晚报"
    assert item["raw_datetime"] == first.cb_kwargs["record"]["datetime"]
    assert item["share_url"] == f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}"
    assert item["body_html"] == json.loads(text)["text"]  # raw: the pipelines clean it


def test_old_feed_spelling_and_unregistered_paper():
    spider = spider_of(AllNewspapersSpider)
    feed = json.loads((SAMPLE_UPSTREAM / "feed-marketType-39.json").read_text("utf-8"))
    assert "nodeList" in feed
    requests = list(spider.parse_feed(response("http://feed/?marketType=39&count=100", feed)))
    assert {r.cb_kwargs["record"]["newspaper"] for r in requests} == {"广州日报", "运城日报"}
    code = next(r for r in requests if r.cb_kwargs["record"]["newspaper"] == "运城日报").cb_kwargs["record"][
        "info_code"
    ]
    text = (SAMPLE_UPSTREAM / f"text-{code}.json").read_bytes()
    request = next(r for r in requests if r.cb_kwargs["record"]["info_code"] == code)
    [item] = collect(spider.parse_text(response(request.url, text, request.meta), **request.cb_kwargs))
    assert item["newspaper"] == "运城日报"


def test_invalid_feed_and_text_are_counted_not_crashed_on():
    spider = spider_of(AllNewspapersSpider)
    assert list(spider.parse_feed(response("http://feed/?marketType=37", b'{"record": [tru'))) == []
    assert collect(spider.parse_text(response("http://t/?id=NW1", b"<html>"), record={"info_code": "NW1"})) == []
    stats = spider.crawler.stats.get_stats()
    assert stats["finews/feeds_invalid"] == 1 and stats["finews/text_invalid"] == 1 and stats["finews/errors"] == 2
