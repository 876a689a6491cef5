"""Build the bundled sample: ``data/sample/upstream/`` (feed and text responses as JSON)
and ``data/sample/upstream.warc.gz`` (the same responses as a WARC recording of the
live endpoints, which the quick start replays).

The one real article (tests/fixtures/reference) is included as recorded; the others are
synthetic (tests/synthetic.py), since no machine here reaches the live service.
Run it again only to change the sample, from the checkout: ``python -m scripts.make_sample``.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from finews_spider import settings as defaults
from finews_spider.upstream import feed_url, text_url
from finews_spider.warc import WarcWriter
from tests.synthetic import REFERENCE_CODE, make_corpus, reference_feed, reference_text

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def build() -> tuple[dict, dict]:
    group_a, texts_a = make_corpus([("山西晚报", 6), ("陕西日报", 6), ("山西日报", 3)], seed=37)
    group_b, texts_b = make_corpus([("海南特区报", 6), ("大河报", 5)], seed=38, code_base=202112210000000000)
    group_c, texts_c = make_corpus([("广州日报", 5), ("运城日报", 2)], seed=39, code_base=202112220000000000)
    feeds = {
        "37": {"record": reference_feed()["record"] + group_a},
        # The same article can be listed in several market types.
        "38": {"record": group_b + group_a[:2]},
        # The older spelling of the listing.
        "39": {
            "nodeList": [
                {"infocode": r["infoCode"], "title": r["title"], "showtime": r["datetime"], "from": r["medianame"]}
                for r in group_c
            ]
        },
    }
    for feed in feeds.values():
        key = "record" if "record" in feed else "nodeList"
        feed[key].sort(key=lambda r: r.get("datetime") or r.get("showtime"), reverse=True)
    texts = {REFERENCE_CODE: reference_text(), **texts_a, **texts_b, **texts_c}
    return feeds, texts


def main() -> None:
    feeds, texts = build()
    upstream = SAMPLE / "upstream"
    shutil.rmtree(upstream, ignore_errors=True)
    upstream.mkdir(parents=True)
    for mt, feed in feeds.items():
        (upstream / f"feed-marketType-{mt}.json").write_text(json.dumps(feed, ensure_ascii=False, indent=1), "utf-8")
    for code, text in texts.items():
        (upstream / f"text-{code}.json").write_text(json.dumps(text, ensure_ascii=False), "utf-8")

    warc = SAMPLE / "upstream.warc.gz"
    warc.unlink(missing_ok=True)
    writer = WarcWriter(
        SAMPLE,
        "upstream-tmp",
        {"software": "finews-archive scripts/make_sample.py", "description": "bundled sample of the upstream service"},
        1 << 40,
    )
    when = datetime(2021, 12, 24, 0, 0, tzinfo=UTC)
    request_headers = {b"User-Agent": [defaults.USER_AGENT.encode()], b"Accept": [b"*/*"]}

    def exchange(url: str, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {b"Content-Type": [b"application/json; charset=utf-8"], b"Content-Length": [str(len(body)).encode()]}
        writer.write_exchange("GET", url, request_headers, b"", 200, headers, body, date=when)

    for mt, feed in feeds.items():
        exchange(feed_url(defaults.FINEWS_FEED_URL, mt, defaults.FINEWS_FEED_COUNT), feed)
    for code, text in texts.items():
        exchange(text_url(defaults.FINEWS_TEXT_URL, code), text)
    writer.close()
    writer.paths[0].rename(warc)
    print(f"{len(texts)} articles in {len(feeds)} feeds -> {upstream}/ and {warc}")


if __name__ == "__main__":
    main()
