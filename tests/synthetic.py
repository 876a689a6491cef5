"""Deterministic synthetic upstream data: feed records and text responses shaped like
the real ones (tests/fixtures/reference/upstream, described in docs/upstream.md), for the bundled sample, tests and benches.

Sentences are taken from the one real article we have, so bodies look like newspaper
prose; hostile markup (scripts, widgets, styles, empty paragraphs, relative URLs,
credits in several forms) is mixed in on purpose.
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "reference"
REFERENCE_CODE = "NW202112232223130395"


def reference_text() -> dict:
    return json.loads((REFERENCE_DIR / "upstream" / f"text-{REFERENCE_CODE}.json").read_text("utf-8"))


def reference_feed() -> dict:
    return json.loads((REFERENCE_DIR / "upstream" / "feed-marketType-37.json").read_text("utf-8"))


def _sentences() -> list[str]:
    text = re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", reference_text()["text"]))
    return [s + "。" for s in re.split(r"。", text) if len(s) > 8 and "来源" not in s]


SENTENCES = _sentences()
HEADINGS = ["国寿姓党积极传承红色基因", "国寿力量助力全省经济增长", "地铁建设提速", "乡村振兴势头强劲", "金融安全稳定"]
TITLE_WORDS = ["推动高质量发展", "地铁建设", "乡村振兴", "保险保障", "金融服务", "营商环境", "数字经济", "绿色转型"]


def make_body(
    rng: random.Random, newspaper: str, target_chars: int = 1500, hostile: bool = True, code: str = ""
) -> str:
    paragraphs = []
    size = 0
    while size < target_chars:
        if rng.random() < 0.15:
            paragraphs.append(f"<p><strong>{rng.choice(HEADINGS)}</strong></p>")
            continue
        text = "".join(rng.choice(SENTENCES) for _ in range(rng.randint(2, 5)))
        if hostile and rng.random() < 0.2:
            cut = rng.randint(1, len(text) - 1)
            text = (
                text[:cut] + '<!--EM_StockCode_Start--><a href="http://quote.eastmoney.com/sh601628.html" '
                'class="keytip" data-code="601628">中国人寿</a><!--EM_StockCode_End-->' + text[cut:]
            )
        indent = rng.choice(["　　", "&nbsp;&nbsp;", ""]) if hostile else "　　"
        paragraphs.append(f"<p>{indent}{text}</p>")
        size += len(text)
    if hostile:
        extras = [
            "<p>&nbsp;</p>",
            '<script>document.write("广告")</script>',
            f'<p style="text-align:center"><img src="/images/{code or "x"}.jpg" onerror="alert(1)" alt="图片"></p>',
            '<p><a href="javascript:void(0)" onclick="share()">分享</a></p>',
            "<style>.x{color:red}</style>",
        ]
        for extra in rng.sample(extras, rng.randint(1, 3)):
            paragraphs.insert(rng.randint(0, len(paragraphs)), extra)
    credit = (
        rng.choice(
            [
                f'<p class="em_media">（文章来源：{newspaper}）</p>',
                f"<p>（文章来源：{newspaper}）</p>",
                f"<p>来源：{newspaper}</p>",
                f"<p>(来源:{newspaper})</p>",
                "",
            ]
        )
        if hostile
        else f'<p class="em_media">（文章来源：{newspaper}）</p>'
    )
    editor = rng.choice(["", "", "<p>（责任编辑：张明）</p>", "<p>责任编辑：李华</p>"]) if hostile else ""
    return "\n ".join(paragraphs) + credit + editor


def make_corpus(
    papers: list[tuple[str, int]],
    seed: int = 2021,
    start: datetime = datetime(2021, 12, 20, 6, 0),
    body_chars: tuple[int, int] = (600, 2400),
    hostile: bool = True,
    code_base: int = 202112200000000000,
):
    """(records, texts): feed records newest first, and text responses by infoCode."""
    rng = random.Random(seed)
    records, texts = [], {}
    n = 0
    for newspaper, count in papers:
        for _ in range(count):
            n += 1
            code = f"NW{code_base + n * 7919:018d}"
            when = start + timedelta(minutes=37 * n + rng.randint(0, 30))
            title = f"{newspaper[:2]}{rng.choice(TITLE_WORDS)}：{rng.choice(SENTENCES)[:18].rstrip('，、；。')}"
            records.append(
                {
                    "infoCode": code,
                    "title": title,
                    "datetime": when.strftime("%Y-%m-%d %H:%M:%S"),
                    "medianame": newspaper,
                }
            )
            texts[code] = {"text": make_body(rng, newspaper, rng.randint(*body_chars), hostile, code)}
    records.sort(key=lambda r: r["datetime"], reverse=True)
    return records, texts


OLD_DIGEST = """---
layout: post
title: "{title}"
date: {date}
categories: emnews
tags: 东财滚动新闻
---

{text}

<http://hk.eastmoney.com/news/11362,{code}.html>

[返回东财滚动新闻](../emnews/)
[返回首页](../)
"""


def make_old_posts(
    folder: Path,
    count: int,
    seed: int = 2021,
    digests: float = 0.08,
    broken: float = 0.02,
    start: datetime = datetime(2021, 12, 1, 6, 0),
) -> dict[str, int]:
    """Write ``count`` posts in the old archive's shapes into ``folder`` (docs/upstream.md,
    tests/fixtures/real/posts): regional articles of the registry's papers filed under
    their old slugs (some with the offset-less date, some CRLF, some without footer, some
    with stock tags), ``digests`` of them 东财滚动新闻 digests and ``broken`` of them broken
    (no share link, a bad date, unclosed front matter). Returns the counts by shape."""
    from finews_spider.registry import Registry

    rng = random.Random(seed)
    papers = Registry.load().papers
    folder.mkdir(parents=True, exist_ok=True)
    counts = {"article": 0, "digest": 0, "broken": 0}
    for i in range(count):
        when = start + timedelta(minutes=7 * i)
        draw = rng.random()
        if draw < digests:
            code = f"{when:%Y%m%d}{2200000000 + i:010d}"
            text = "".join(rng.sample(SENTENCES, 2))
            post = OLD_DIGEST.format(
                title=rng.choice(TITLE_WORDS) + str(i), date=f"{when:%Y-%m-%d %H:%M:%S}", text=text, code=code
            )
            (folder / f"{when:%Y-%m-%d}-{code}.md").write_text(post, encoding="utf-8")
            counts["digest"] += 1
            continue
        paper = papers[i % len(papers)]
        code = f"NW{when:%Y%m%d}{2200000000 + i:010d}"
        body = make_body(rng, paper.name, target_chars=rng.randint(600, 2500), hostile=False, code=code)
        if i % 5 == 0:
            body = body.replace("</p>", '<span id="stock_1.600160"><a data-code="1,600160">巨化股份</a></span></p>', 1)
        date = f"{when:%Y-%m-%d %H:%M:%S}" + (" +0800" if i % 3 else "")
        footer = (
            ""
            if i % 11 == 0
            else (
                f"\n\n[返回{paper.name}新闻](//finews.withounder.com/category/{paper.old_slug}.html)"
                f"｜[返回首页](//finews.withounder.com/)"
            )
        )
        post = (
            f'---\nlayout: post\ntitle: "{rng.choice(TITLE_WORDS)} {i}"\ndate: {date}\n'
            f"categories: {paper.old_slug}\ntags: {paper.name}新闻\n---\n{body}\n\n"
            f"<http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}>{footer}"
        )
        if draw > 1 - broken:
            kind = i % 3
            post = (
                post.split("\n\n<http")[0]
                if kind == 0
                else post.replace(f"date: {date}", "date: 2021-13-45 99:00")
                if kind == 1
                else post.replace("\n---\n", "\n", 2).replace("---\n", "", 1) + "\n"
            )
            counts["broken"] += 1
        else:
            counts["article"] += 1
        if i % 7 == 0:
            post = post.replace("\n", "\r\n")
        (folder / f"{when:%Y-%m-%d}-{code}.md").write_bytes(post.encode("utf-8"))
    return counts


CAPTURE_PAPERS = ["山西晚报", "陕西日报", "海南特区报", "大河报", "广州日报", "南方日报"]


def write_captures(directory: Path, n: int) -> int:
    """A WARC of ``n`` synthetic article captures in ``directory`` (texts of 2,000–6,500
    characters, and a feed capture of every 100 records, the same feed URL each time, as
    cron runs capture it): the bytes of the text bodies."""
    from finews_spider import settings as defaults
    from finews_spider.upstream import feed_url, text_url
    from finews_spider.warc import WarcWriter

    rng = random.Random(n)
    writer = WarcWriter(directory, "bench", {"software": "bench/reextract.py"}, 1 << 30)
    headers = {b"Content-Type": [b"application/json; charset=utf-8"]}
    start = datetime(2021, 1, 1, 8, 0)
    size = 0
    for batch in range(0, n, 100):
        records, texts = [], []
        for i in range(batch, min(n, batch + 100)):
            code = f"NW{202101010000000000 + i:018d}"
            paper = CAPTURE_PAPERS[i % len(CAPTURE_PAPERS)]
            when = start + timedelta(minutes=5 * i)
            records.append(
                {
                    "infoCode": code,
                    "title": f"{paper}第{i}号新闻",
                    "datetime": when.strftime("%Y-%m-%d %H:%M:%S"),
                    "medianame": paper,
                }
            )
            body = make_body(rng, paper, rng.randint(2000, 6500), code=code)
            texts.append((code, json.dumps({"text": body}, ensure_ascii=False).encode("utf-8")))
        feed = json.dumps({"record": records[::-1]}, ensure_ascii=False).encode("utf-8")
        # The same feed URL captured again and again, as cron runs do.
        writer.write_exchange("GET", feed_url(defaults.FINEWS_FEED_URL, 37, 100), {}, b"", 200, headers, feed)
        for code, body in texts:
            size += len(body)
            writer.write_exchange("GET", text_url(defaults.FINEWS_TEXT_URL, code), {}, b"", 200, headers, body)
    writer.close()
    return size
