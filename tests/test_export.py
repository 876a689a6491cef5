"""``scrapy export`` (a real subprocess) and the functions under it, on an archive made by
a real crawl of the loopback sample in which one article carries the real stock tags of
issue 12."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from finews_spider.api import write_export
from finews_spider.cleaning import html_to_text
from finews_spider.search import article_filters, search_archive
from tests.conftest import SAMPLE_UPSTREAM, crawl, rows, scrapy
from tests.upstream_server import Upstream

pytestmark = pytest.mark.slow  # every test here starts processes (docs/testing.md)

REAL = Path(__file__).parent / "fixtures" / "bodies" / "mentions-real.html"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("export")
    up = Upstream.from_dir(SAMPLE_UPSTREAM).start()
    try:
        code = next(c for c in sorted(up.texts) if c != "NW202112232223130395")
        up.texts[code] = {**up.texts[code], "text": REAL.read_text("utf-8")}
        result = crawl("finews", data_dir, up)
    finally:
        up.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    return data_dir


def export(archive, *args):
    return scrapy("export", *args, data_dir=archive, timeout=60)


def newest_first(archive, where="1", params=()):
    """The rows an export should hold: every column, and the body's plain text after the HTML."""
    found = rows(
        archive / "finews.db", f"SELECT * FROM articles WHERE {where} ORDER BY published_at DESC, doc_id DESC", params
    )
    papers = {r["slug"]: r for r in rows(archive / "finews.db", "SELECT slug, province, city FROM newspapers")}

    def columns(k, v, slug):
        if k == "body_html":
            return [(k, v), ("body_text", html_to_text(v))]
        if k == "newspaper":  # the paper's province and city follow its name
            return [(k, v), ("province", papers[slug]["province"]), ("city", papers[slug]["city"])]
        return [(k, v)]

    return [dict(sum((columns(k, v, r["slug"]) for k, v in r.items()), [])) for r in found]


def test_jsonl_every_column_and_mentions_newest_first(archive, tmp_path):
    out = tmp_path / "all.jsonl"
    result = export(archive, str(out))
    assert result.returncode == 0, result.stderr
    exported = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    want = newest_first(archive)
    assert len(exported) == len(want) == 34
    mentions = rows(archive / "finews.db", "SELECT * FROM mentions ORDER BY rowid")
    assert mentions
    for got, row in zip(exported, want):
        assert {k: v for k, v in got.items() if k != "mentions"} == row  # every column, same values
        assert got["mentions"] == [
            {k: m[k] for k in ("kind", "market", "code", "name", "exchange")}
            for m in mentions
            if m["info_code"] == row["info_code"]
        ]
    assert "34 articles written" in result.stderr
    assert not list(tmp_path.glob(".*.tmp"))
    # Each article carries its paper's province and city, apart, right after the paper's name.
    keys = list(exported[0])
    assert keys[keys.index("newspaper") + 1 : keys.index("newspaper") + 3] == ["province", "city"]
    assert {"山西", "海南"} <= {row["province"] for row in exported}


def test_csv_by_extension_with_joined_mentions(archive, tmp_path):
    out = tmp_path / "all.csv"
    assert export(archive, str(out)).returncode == 0
    table = list(csv.DictReader(io.StringIO(out.read_text("utf-8"), newline="")))
    want = newest_first(archive)
    assert [r["info_code"] for r in table] == [r["info_code"] for r in want]
    assert list(table[0]) == [*want[0], "mentions"]
    assert table[0]["body_html"] == want[0]["body_html"]  # newlines and quotes survive
    tagged = next(r for r in table if r["mentions"])
    assert "stock 1.600160 巨化股份" in tagged["mentions"].split("; ")
    assert "board 90.BK0493 新能源" in tagged["mentions"].split("; ")


def test_filters_are_those_of_search(archive, tmp_path):
    out = tmp_path / "x.jsonl"
    result = export(archive, str(out), "--search", "十四五", "--newspaper", "shanxiwanbao", "--since", "2021-12-21")
    assert result.returncode == 0, result.stderr
    got = [json.loads(line)["info_code"] for line in out.read_text("utf-8").splitlines()]
    conn = sqlite3.connect(archive / "finews.db")
    want = [
        m["info_code"] for m in search_archive(conn, "十四五", newspaper="shanxiwanbao", since="2021-12-21", limit=None)
    ]
    stock = [m["info_code"] for m in search_archive(conn, "", stock="600160", limit=None)]
    conn.close()
    assert got and sorted(got) == sorted(want)
    assert export(archive, str(out), "--stock", "巨化股份", "--until", "2030-01-01").returncode == 0
    assert [json.loads(line)["info_code"] for line in out.read_text("utf-8").splitlines()] == stock and len(stock) == 1


def test_stdout_and_nothing_matched(archive, tmp_path):
    result = export(archive, "-", "--format", "csv", "--newspaper", "shanxiwanbao")
    assert result.returncode == 0
    assert len(list(csv.reader(io.StringIO(result.stdout)))) == 1 + len(
        newest_first(archive, "slug=?", ("shanxiwanbao",))
    )
    out = tmp_path / "none.csv"
    result = export(archive, str(out), "--search", "没有这个词语")
    assert result.returncode == 1  # like grep: nothing matched
    assert out.read_text("utf-8").startswith("info_code,") and len(out.read_text("utf-8").splitlines()) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "one output file"),
        (["out.txt"], "cannot tell the format"),
        (["out.csv", "--format", "xml"], "invalid choice"),
        (["out.csv", "--since", "2021-13-01"], "accepts a date YYYY-MM-DD"),
        (["out.csv", "--since", "20211201"], "accepts a date YYYY-MM-DD"),
        (["out.csv", "--search", " ，。"], "no words"),
        (["/no/such/folder/out.csv"], "no such folder"),
    ],
)
def test_usage_errors_exit_2(archive, tmp_path, args, message):
    result = export(archive, *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_missing_archive_exits_2(tmp_path):
    result = scrapy("export", str(tmp_path / "x.jsonl"), data_dir=tmp_path / "nothing", timeout=60)
    assert result.returncode == 2 and "no archive at" in result.stderr
    assert not (tmp_path / "x.jsonl").exists()


def test_failed_export_leaves_the_previous_file(archive, tmp_path, monkeypatch):
    out = tmp_path / "keep.jsonl"
    out.write_text("previous\n")
    conn = sqlite3.connect(archive / "finews.db")

    def broken(*a, **k):
        yield {"info_code": "x", "mentions": []}
        raise sqlite3.DatabaseError("disk image is malformed")

    monkeypatch.setattr("finews_spider.api.export_rows", broken)
    with pytest.raises(sqlite3.DatabaseError):
        write_export(conn, str(out), "jsonl", [])
    conn.close()
    assert out.read_text() == "previous\n" and not list(tmp_path.glob(".*.tmp"))


def _grown_copy(archive: Path, dest: Path, copies: int) -> sqlite3.Connection:
    """A copy of the archive with ``copies`` × its articles (new infoCodes)."""
    shutil.copy(archive / "finews.db", dest)
    conn = sqlite3.connect(dest)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(articles)")]
    picked = ", ".join("info_code || ?" if c == "info_code" else "doc_id + ?" if c == "doc_id" else c for c in columns)
    with conn:
        for i in range(1, copies):
            conn.execute(
                f"INSERT INTO articles ({', '.join(columns)}) SELECT {picked} FROM articles WHERE rowid <= 34",
                (f"C{i}", 10**9 * i),
            )
    return conn


def test_memory_stays_flat(archive, tmp_path):
    peaks = []
    for copies in (10, 100):
        conn = _grown_copy(archive, tmp_path / f"grown{copies}.db", copies)
        tracemalloc.start()
        count = write_export(conn, str(tmp_path / f"out{copies}.jsonl"), "jsonl", article_filters(require=False))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        conn.close()
        assert count == 34 * copies
    assert peaks[1] < peaks[0] * 1.5, peaks  # 10 times the rows, about the same peak
