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


def make_body(rng: random.Random, newspaper: str, target_chars: int = 1500, hostile: bool = True, code: str = "") -> str:
    paragraphs = []
    size = 0
    while size < target_chars:
        if rng.random() < 0.15:
            paragraphs.append(f"<p><strong>{rng.choice(HEADINGS)}</strong></p>")
            continue
        text = "".join(rng.choice(SENTENCES) for _ in range(rng.randint(2, 5)))
        if hostile and rng.random() < 0.2:
            cut = rng.randint(1, len(text) - 1)
            text = (text[:cut] + '<!--EM_StockCode_Start--><a href="http://quote.eastmoney.com/sh601628.html" '
                    'class="keytip" data-code="601628">中国人寿</a><!--EM_StockCode_End-->' + text[cut:])
        indent = rng.choice(["　　", "&nbsp;&nbsp;", ""]) if hostile else "　　"
        paragraphs.append(f"<p>{indent}{text}</p>")
        size += len(text)
    if hostile:
        extras = [
            '<p>&nbsp;</p>',
            '<script>document.write("广告")</script>',
            f'<p style="text-align:center"><img src="/images/{code or "x"}.jpg" onerror="alert(1)" alt="图片"></p>',
            '<p><a href="javascript:void(0)" onclick="share()">分享</a></p>',
            '<style>.x{color:red}</style>',
        ]
        for extra in rng.sample(extras, rng.randint(1, 3)):
            paragraphs.insert(rng.randint(0, len(paragraphs)), extra)
    credit = rng.choice([
        f'<p class="em_media">（文章来源：{newspaper}）</p>',
        f'<p>（文章来源：{newspaper}）</p>',
        f'<p>来源：{newspaper}</p>',
        f'<p>(来源:{newspaper})</p>',
        "",
    ]) if hostile else f'<p class="em_media">（文章来源：{newspaper}）</p>'
    editor = rng.choice(["", "", "<p>（责任编辑：张明）</p>", "<p>责任编辑：李华</p>"]) if hostile else ""
    return "\n ".join(paragraphs) + credit + editor


def make_corpus(papers: list[tuple[str, int]], seed: int = 2021, start: datetime = datetime(2021, 12, 20, 6, 0),
                body_chars: tuple[int, int] = (600, 2400), hostile: bool = True, code_base: int = 202112200000000000):
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
            records.append({"infoCode": code, "title": title, "datetime": when.strftime("%Y-%m-%d %H:%M:%S"), "medianame": newspaper})
            texts[code] = {"text": make_body(rng, newspaper, rng.randint(*body_chars), hostile, code)}
    records.sort(key=lambda r: r["datetime"], reverse=True)
    return records, texts
