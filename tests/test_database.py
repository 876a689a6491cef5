"""The SQLite archive: upserts, revisions, counts, migrations, Chinese search."""

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlite_utils

from finews_spider.archive import database as database_module
from finews_spider.archive.database import ArchiveDatabase, doc_id_base
from finews_spider.cleaning import derive_text_fields
from finews_spider.registry import Registry
from finews_spider.search import FTS_TOKENIZE, fts_query, index_text

BJ = timezone(timedelta(hours=8))
T0 = datetime(2021, 12, 24, 1, 0, tzinfo=UTC)


def article(
    code="NW1", title="山西推动高质量发展", body="<p>国寿助力地铁建设。</p>", slug="shanxiwanbao", paper="山西晚报"
):
    text, content_hash = derive_text_fields(title, body)
    return {
        "info_code": code,
        "title": title,
        "published_at": datetime(2021, 12, 23, 7, 25, 33, tzinfo=BJ),
        "newspaper": paper,
        "slug": slug,
        "body_html": body,
        "source": paper,
        "editor": None,
        "share_url": f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}",
        "fetched_at": T0,
        "body_text": text,
        "content_hash": content_hash,
    }


@pytest.fixture
def db(tmp_path):
    database = ArchiveDatabase(tmp_path / "finews.db")
    database.sync_newspapers(Registry.load().papers)
    yield database
    database.close()


def search(db, query):
    return [
        r[0]
        for r in db.conn.execute(
            "SELECT a.info_code FROM articles a WHERE a.doc_id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?) ORDER BY a.info_code",
            (fts_query(query),),
        )
    ]


def test_new_unchanged_changed_and_revisions(db):
    assert db.save_article(article(), T0) == "new"
    assert db.save_article(article(), T0 + timedelta(hours=1)) == "unchanged"
    assert db.conn.execute("SELECT count(*) FROM revisions").fetchone()[0] == 0
    assert db.save_article(article(body="<p>更正：国寿助力高铁建设。</p>"), T0 + timedelta(hours=2)) == "changed"
    [rev] = db.conn.execute("SELECT info_code, title, body_html, seen_at, replaced_at FROM revisions").fetchall()
    assert rev == (
        "NW1",
        "山西推动高质量发展",
        "<p>国寿助力地铁建设。</p>",
        (T0 + timedelta(hours=1)).isoformat(),
        (T0 + timedelta(hours=2)).isoformat(),
    )
    row = db.get("NW1")
    assert row["body_html"] == "<p>更正：国寿助力高铁建设。</p>" and row["first_seen_at"] == T0.isoformat()
    assert row["published_at"] == "2021-12-23T07:25:33+08:00" and row["published_date"] == "2021-12-23"
    assert "body_text" not in row  # derived from body_html where needed (29% of the archive)
    assert db.conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    # The index holds the current version only: the old one was removed with the tokens it had.
    assert search(db, "高铁") == ["NW1"] and search(db, "地铁") == []
    assert db.conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 0)") is not None


def test_newspaper_counts_stay_current(db):
    db.save_article(article("NW1"), T0)
    db.save_article(article("NW2"), T0)
    db.save_article(article("NW3", slug="dahebao", paper="大河报"), T0)
    counts = dict(db.conn.execute("SELECT slug, article_count FROM newspapers WHERE article_count > 0"))
    assert counts == {"shanxiwanbao": 2, "dahebao": 1}
    db.save_article(article("NW2", slug="dahebao", paper="大河报"), T0)  # re-attributed
    counts = dict(db.conn.execute("SELECT slug, article_count FROM newspapers WHERE article_count > 0"))
    assert counts == {"shanxiwanbao": 1, "dahebao": 2}


def test_chinese_search(db):
    db.save_article(article("NW1", body="<p>国寿助力地铁建设。</p>"), T0)
    db.save_article(article("NW2", title="海南自贸港", body="<p>推动山西高质量发展，GDP排名上升。</p>"), T0)
    db.save_article(article("NW3", title="其他", body="<p>中国人寿保险。</p>"), T0)
    assert search(db, "国寿") == ["NW1"]
    assert search(db, "地铁") == ["NW1"]
    assert search(db, "山西高质量发展") == ["NW2"]
    assert search(db, "高质量") == ["NW1", "NW2"]  # NW1's title
    assert search(db, "GDP排名") == ["NW2"]
    assert search(db, "人寿 保险") == ["NW3"]
    assert search(db, "自贸") == ["NW2"]
    assert search(db, "不存在") == []
    assert search(db, "地铁建设山西") == []  # words present, phrase absent
    assert search(db, "") == []


def test_search_index_follows_changes(db):
    db.save_article(article("NW1", body="<p>地铁建设。</p>"), T0)
    db.save_article(article("NW1", body="<p>高铁建设。</p>"), T0)
    assert search(db, "地铁") == [] and search(db, "高铁") == ["NW1"] and search(db, "建设") == ["NW1"]
    # The old version's words are gone from the index itself, not just unmatched.
    db.conn.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(articles_fts, 'row')")
    terms = {t for (t,) in db.conn.execute("SELECT term FROM vocab")}
    assert "地铁" not in terms and "高铁" in terms


def test_unchanged_articles_are_not_tokenized_and_a_stale_guess_is_corrected(db, monkeypatch):
    """prepare() skips the search tokens of an article whose hash is the archived one;
    if the archive changed meanwhile (another run), _save tokenizes it after all."""
    db.save_article(article("NW1", body="<p>地铁建设。</p>"), T0)
    same, changed = article("NW1", body="<p>地铁建设。</p>"), article("NW1", body="<p>高铁建设。</p>")
    archived = {"NW1": same["content_hash"]}
    prepared = db.prepare([same], archived)
    assert prepared[0][1] is None  # no search tokens
    assert db.save_prepared(prepared, T0)[0]["status"] == "unchanged"
    # A guess made before another run changed the article: the index still follows.
    stale = db.prepare([changed], {"NW1": changed["content_hash"]})
    assert stale[0][1] is None
    assert db.save_prepared(stale, T0)[0]["status"] == "changed"
    assert search(db, "地铁") == [] and search(db, "高铁") == ["NW1"]


def test_index_text_tokens():
    assert index_text("中国人寿AA级") == "中国 国人 人寿 寿 aa 级"
    assert fts_query("国寿") == '"国寿"'
    assert fts_query("中国人寿") == '"中国 国人 人寿"'
    assert fts_query("寿") == '"寿"*'


def test_archive_from_an_older_version_upgrades_without_loss(tmp_path):
    """An archive as the first version wrote it: articles with only the item fields."""
    path = tmp_path / "finews.db"
    old = sqlite_utils.Database(path)
    old["articles"].insert(
        {
            "info_code": "NW1",
            "title": "旧标题",
            "published_at": "2021-12-23T07:25:33+08:00",
            "newspaper": "山西晚报",
            "slug": "shanxiwanbao",
            "body_html": "<p>国寿地铁。</p>",
            "source": "山西晚报",
            "share_url": "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW1",
            "fetched_at": T0.isoformat(),
        },
        pk="info_code",
    )
    old["newspapers"].insert({"slug": "shanxiwanbao", "name": "山西晚报"}, pk="slug")
    old.close()
    db = ArchiveDatabase(path)
    row = db.get("NW1")
    assert row["title"] == "旧标题" and row["body_html"] == "<p>国寿地铁。</p>"
    assert row["content_hash"] == derive_text_fields("旧标题", "<p>国寿地铁。</p>")[1]
    assert row["doc_id"] == doc_id_base("2021-12-23T07:25:33+08:00")
    assert row["published_date"] == "2021-12-23" and row["first_seen_at"] == T0.isoformat()
    assert search(db, "国寿") == ["NW1"]
    assert db.conn.execute("PRAGMA user_version").fetchone()[0] >= 2
    assert {"revisions", "crawls", "articles_fts"} <= set(db.db.table_names())
    assert db.save_article(article("NW1", title="旧标题", body="<p>国寿地铁。</p>"), T0) == "unchanged"
    assert db.save_article(article("NW2"), T0) == "new" and db.get("NW2")["doc_id"] == row["doc_id"] + 1
    assert dict(db.conn.execute("SELECT slug, article_count FROM newspapers WHERE article_count > 0")) == {
        "shanxiwanbao": 2
    }
    assert [r[0] for r in db.conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"国寿\"'")] == [
        row["doc_id"],
        row["doc_id"] + 1,
    ]
    db.close()


def test_doc_ids_follow_the_publication_order_whatever_the_order_of_archiving(db):
    """The search index (rowid = doc_id) lists matches newest first by itself."""
    times = [
        "2021-12-23T07:25:33+08:00",
        "2020-01-01T00:00:00+08:00",
        "2021-12-23T07:25:33+08:00",
        "2021-12-23T07:25:34+08:00",
        "2019-06-30T23:59:59+08:00",
    ]
    batch = [{**article(f"NW{i}"), "published_at": t} for i, t in enumerate(times)]
    saved = db.save_articles(batch, T0)
    by_time = sorted(range(len(times)), key=lambda i: (times[i], i))
    assert sorted(range(len(times)), key=lambda i: saved[i]["doc_id"]) == by_time
    assert saved[2]["doc_id"] == saved[0]["doc_id"] + 1 == doc_id_base(times[0]) + 1  # the next free slot
    newest = [
        r[0]
        for r in db.conn.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"国寿\"' ORDER BY rowid DESC LIMIT 2"
        )
    ]
    assert newest == [saved[3]["doc_id"], saved[2]["doc_id"]]
    assert doc_id_base("2021-12-23T07:25:33") == doc_id_base("2021-12-23T07:25:33+08:00")  # Beijing time


def test_crash_inside_a_write_leaves_no_half_row(db, monkeypatch):
    db.save_article(article("NW1"), T0)

    def broken(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(db, "_insert_tokens", broken)
    with pytest.raises(RuntimeError):
        db.save_article(article("NW1", body="<p>新正文</p>"), T0)
    assert db.get("NW1")["body_html"] == "<p>国寿助力地铁建设。</p>"
    assert db.conn.execute("SELECT count(*) FROM revisions").fetchone()[0] == 0


def test_failure_inside_a_batch_rolls_the_batch_back(db, monkeypatch):
    db.save_article(article("NW1"), T0)
    calls = []

    def index_then_fail(*args):
        calls.append(args)
        if len(calls) == 2:
            raise sqlite3.OperationalError("disk full")

    monkeypatch.setattr(db, "_insert_tokens", index_then_fail)
    with pytest.raises(sqlite3.OperationalError):
        db.save_articles([article("NW2"), article("NW3")], T0)
    assert not db.conn.in_transaction
    assert [r[0] for r in db.conn.execute("SELECT info_code FROM articles")] == ["NW1"]
    assert dict(db.conn.execute("SELECT slug, article_count FROM newspapers WHERE article_count > 0")) == {
        "shanxiwanbao": 1
    }


def test_batch_statuses(db):
    db.save_article(article("NW1"), T0)
    saved = db.save_articles([article("NW1"), article("NW2"), article("NW1", body="<p>新</p>")], T0)
    assert [s["status"] for s in saved] == ["unchanged", "new", "changed"]
    first = doc_id_base("2021-12-23T07:25:33+08:00")
    assert [s["doc_id"] for s in saved] == [first, first + 1, first]
    assert saved[1]["first_seen_at"] == saved[1]["last_seen_at"] == T0.isoformat()


def _open_archive(path, barrier):
    barrier.wait()
    ArchiveDatabase(path).close()


@pytest.mark.slow  # processes
def test_processes_creating_the_same_archive_at_once_all_succeed(tmp_path):
    """Cron can start several spiders on a fresh data directory in the same second."""
    import multiprocessing

    for attempt in range(10):
        path = tmp_path / f"{attempt}.db"
        barrier = multiprocessing.Barrier(4)
        workers = [multiprocessing.Process(target=_open_archive, args=(path, barrier)) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert [w.exitcode for w in workers] == [0, 0, 0, 0]


def test_archive_of_schema_5_upgrades(tmp_path):
    """Version 5 numbered doc_id in the order of archiving, kept the body's plain text in
    a body_text column, and had no index version: its doc_ids are renumbered in
    publication order, the column dropped and the index rebuilt, with nothing lost."""
    path = tmp_path / "finews.db"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE articles (info_code TEXT PRIMARY KEY, doc_id INTEGER, title TEXT, published_at TEXT,
          published_date TEXT, newspaper TEXT, slug TEXT, body_html TEXT, body_text TEXT, source TEXT, editor TEXT,
          share_url TEXT, fetched_at TEXT, content_hash TEXT, first_seen_at TEXT, last_seen_at TEXT);
        CREATE INDEX idx_articles_published_at_doc_id ON articles (published_at, doc_id);
        CREATE TABLE finews_meta (key TEXT PRIMARY KEY, value INTEGER);
        INSERT INTO finews_meta VALUES ('last_doc_id', 2);
        CREATE VIRTUAL TABLE articles_fts USING fts5(title, body_text, content='');
        PRAGMA user_version = 5;
    """)
    for doc_id, code, published, body in [
        (1, "NW1", "2021-12-23T07:25:33+08:00", "<p>国寿地铁。</p>"),
        (2, "NW2", "2020-05-01T08:00:00+08:00", "<p>国寿高铁。</p>"),
    ]:
        text, chash = derive_text_fields("标题", body)
        old.execute(
            "INSERT INTO articles VALUES (?, ?, '标题', ?, ?, '山西晚报', 'shanxiwanbao', ?, ?, '山西晚报', NULL, "
            "'u', ?, ?, ?, ?)",
            (
                code,
                doc_id,
                published,
                published[:10],
                body,
                text,
                T0.isoformat(),
                chash,
                T0.isoformat(),
                T0.isoformat(),
            ),
        )
        old.execute(
            "INSERT INTO articles_fts (rowid, title, body_text) VALUES (?, ?, ?)",
            (doc_id, index_text("标题"), index_text(text)),
        )
    old.commit()
    old.close()
    reindexed = []
    db = ArchiveDatabase(path, on_reindex=reindexed.append)
    assert reindexed == [2]
    assert "body_text" not in db.db["articles"].columns_dict
    assert db.conn.execute("SELECT count(*) FROM finews_meta WHERE key='last_doc_id'").fetchone() == (0,)
    ids = dict(db.conn.execute("SELECT info_code, doc_id FROM articles"))
    assert ids == {"NW1": doc_id_base("2021-12-23T07:25:33+08:00"), "NW2": doc_id_base("2020-05-01T08:00:00+08:00")}
    assert search(db, "国寿") == ["NW1", "NW2"] and search(db, "高铁") == ["NW2"]
    # A correction removes exactly the old tokens (derived again from the stored HTML).
    assert (
        db.save_article(
            {**article("NW2", title="标题", body="<p>国寿动车。</p>"), "published_at": "2020-05-01T08:00:00+08:00"}, T0
        )
        == "changed"
    )
    assert search(db, "高铁") == [] and search(db, "动车") == ["NW2"]
    db.conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 0)")
    # The index was made again with today's tokenizer (version 5's was unicode61).
    fts_sql = db.conn.execute("SELECT sql FROM sqlite_master WHERE name='articles_fts'").fetchone()[0]
    assert FTS_TOKENIZE in fts_sql
    db.close()
    db = ArchiveDatabase(path, on_reindex=reindexed.append)
    assert reindexed == [2]  # once
    db.close()


def test_a_new_index_version_rebuilds_the_index(tmp_path, monkeypatch):
    """When the tokens an article is indexed with change (search.INDEX_VERSION), the next
    open rebuilds the index: removing an old version needs exactly its tokens."""

    db = ArchiveDatabase(tmp_path / "finews.db")
    db.save_articles([article("NW1")], T0)
    db.close()
    monkeypatch.setattr(database_module, "INDEX_VERSION", 99)  # the schema's version stays
    reindexed = []
    db = ArchiveDatabase(tmp_path / "finews.db", on_reindex=reindexed.append)
    assert reindexed == [1] and search(db, "国寿") == ["NW1"]
    assert db.conn.execute("SELECT value FROM finews_meta WHERE key='index_version'").fetchone() == (99,)
    db.close()


def test_posts_are_flushed_before_their_batch_is_recorded(tmp_path, monkeypatch):
    """Publishing a batch: the posts are written, one syncfs, then the rows commit."""
    from finews_spider.archive import Archive
    from finews_spider.config import project_config

    archive = Archive(project_config(data_dir=tmp_path))
    events = []
    monkeypatch.setattr("finews_spider.archive.core.sync_filesystem", lambda path: events.append(("sync", path)))
    original = database_module.ArchiveDatabase.save_prepared
    monkeypatch.setattr(
        archive.db,
        "save_prepared",
        lambda prepared, seen: (
            events.append(("save", len(prepared), len(list((tmp_path / "_posts").glob("*.md")))))
            or original(archive.db, prepared, seen)
        ),
    )
    results = archive.publish_batch([article("NW1"), article("NW2")], T0)
    assert events == [("sync", tmp_path), ("save", 2, 2)]  # both posts on disk before the rows
    assert [r["status"] for r in results] == ["new", "new"] and results[0]["slug"] == "shanxiwanbao"
    archive.close()


def test_posts_are_flushed_with_syncfs_on_linux():
    """One syncfs(2) of the archive's filesystem, not sync(2) of every filesystem."""
    import sys

    from finews_spider import files

    if not sys.platform.startswith("linux"):
        pytest.skip("syncfs is Linux-only; elsewhere sync(2) is used")
    assert files._syncfs is not None


def test_mentions_follow_the_current_version(db):
    """A corrected article's mentions are its current ones; a save that does not know
    them (mentions None) leaves them alone."""
    stock = {"kind": "stock", "market": "1", "code": "600160", "name": "巨化股份", "exchange": "SSE"}
    board = {"kind": "board", "market": "90", "code": "BK0493", "name": "新能源", "exchange": None}
    db.save_articles([{**article("NW1"), "mentions": [stock, board]}], T0)

    def listed():
        return [
            (r[0], r[1])
            for r in db.conn.execute("SELECT code, published_at FROM mentions WHERE info_code='NW1' ORDER BY code")
        ]

    assert listed() == [("600160", "2021-12-23T07:25:33+08:00"), ("BK0493", "2021-12-23T07:25:33+08:00")]
    db.save_articles([{**article("NW1", body="<p>更正</p>"), "mentions": [board]}], T0)
    assert listed() == [("BK0493", "2021-12-23T07:25:33+08:00")]
    db.save_articles([article("NW1", body="<p>更正</p>")], T0)
    assert listed() == [("BK0493", "2021-12-23T07:25:33+08:00")]
    plan = " ".join(
        r[3]
        for r in db.conn.execute(
            "EXPLAIN QUERY PLAN SELECT info_code FROM mentions WHERE code='600160' ORDER BY published_at DESC"
        )
    )
    assert "idx_mentions_code_published_at" in plan and "TEMP B-TREE" not in plan


def test_a_dropped_articles_table_is_created_again_with_an_empty_index(tmp_path):
    """A lost table comes back empty, and so does what the search index and the mentions
    said of its rows; the next crawl fills them (see the fault matrix)."""
    db = ArchiveDatabase(tmp_path / "finews.db")
    stock = {"kind": "stock", "market": "1", "code": "600160", "name": "巨化股份", "exchange": "SSE"}
    db.save_articles([{**article("NW1"), "mentions": [stock]}, article("NW2")], T0)
    db.conn.execute("DROP TABLE articles")
    db.close()
    db = ArchiveDatabase(tmp_path / "finews.db")
    assert db.migrated_missing == ["articles"]
    assert db.conn.execute("SELECT count(*) FROM mentions").fetchone()[0] == 0
    assert [r[0] for r in db.conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"国寿\"'")] == []
    db.save_articles([article("NW3")], T0)
    assert search(db, "国寿") == ["NW3"]
    db.close()


def test_archive_of_schema_6_gets_province_and_city_apart(tmp_path):
    """Version 6 kept a paper's province and city joined in ``region`` (山西太原): the
    column is dropped and province and city are filled from the registry."""
    path = tmp_path / "finews.db"
    db = ArchiveDatabase(path)
    db.conn.execute("ALTER TABLE newspapers ADD COLUMN region TEXT")
    db.conn.execute("ALTER TABLE newspapers DROP COLUMN province")
    db.conn.execute("ALTER TABLE newspapers DROP COLUMN city")
    db.conn.execute(
        "INSERT INTO newspapers (slug, name, region, article_count) VALUES ('taiyuanribao', '太原日报', '山西太原', 0)"
    )
    db.conn.execute("PRAGMA user_version = 6")
    db.close()
    db = ArchiveDatabase(path)
    assert "region" not in db.db["newspapers"].columns_dict
    db.sync_newspapers(Registry.load().papers)
    assert db.conn.execute("SELECT province, city FROM newspapers WHERE slug='taiyuanribao'").fetchone() == (
        "山西",
        "太原",
    )
    assert db.conn.execute("PRAGMA user_version").fetchone()[0] == 7
    db.close()


def _wal_database(path: Path, rows: int = 400) -> tuple[sqlite3.Connection, int]:
    """A WAL database whose newest pages are only in its write-ahead log (no checkpoint):
    the connection (keep it open: closing checkpoints) and its page count."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file: 2 pages; what follows stays in the WAL
    conn.executemany("INSERT INTO t VALUES (?)", [("国寿" * 200,) for _ in range(rows)])
    return conn, conn.execute("PRAGMA page_count").fetchone()[0]


def test_a_header_counting_pages_still_in_the_wal_is_healthy(tmp_path):
    """After a checkpoint cut short by a full disk, the file's header counts pages that are
    still only in the WAL: SQLite reads them from there, so the check must not call the
    file truncated (it did, and every later run refused the archive for good)."""
    conn, pages = _wal_database(tmp_path / "live.db")
    for name in ("live.db", "live.db-wal"):
        shutil.copy(tmp_path / name, tmp_path / name.replace("live", "copy"))
    conn.close()
    copy = tmp_path / "copy.db"
    header = bytearray(copy.read_bytes()[:100])
    assert int.from_bytes(header[28:32], "big") < pages  # the file itself is short
    with open(copy, "r+b") as f:  # its header now counts every page, as a half-done checkpoint leaves it
        f.seek(28)
        f.write(pages.to_bytes(4, "big"))
    assert copy.stat().st_size < pages * 4096
    database_module.check_file(copy)  # healthy: the WAL holds every page past the end
    check = sqlite3.connect(copy)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert check.execute("SELECT count(*) FROM t").fetchone() == (400,)
    check.close()


def test_a_file_cut_short_is_truncated_when_its_wal_lacks_the_pages(tmp_path):
    conn, pages = _wal_database(tmp_path / "live.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the file, the WAL empty
    conn.close()
    path = tmp_path / "live.db"
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)
    with pytest.raises(database_module.ArchiveDamaged, match="truncated"):
        database_module.check_file(path)
    (tmp_path / "live.db-wal").write_bytes(b"garbage, not a write-ahead log" * 10)
    with pytest.raises(database_module.ArchiveDamaged, match="truncated"):
        database_module.check_file(path)


def test_a_header_counting_billions_of_pages_is_refused_at_once(tmp_path):
    """A damaged header may count 2^32 pages: the check compares counts, never lists them."""
    path = tmp_path / "finews.db"
    header = bytearray(b"SQLite format 3\x00" + bytes(84))
    header[16:18] = (4096).to_bytes(2, "big")
    header[28:32] = header[24:28] = header[92:96] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(header) + bytes(8000))
    with pytest.raises(database_module.ArchiveDamaged, match="truncated"):
        database_module.check_file(path)
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8000)  # page size 65535: no SQLite file
    with pytest.raises(database_module.ArchiveDamaged, match="not an SQLite database"):
        database_module.check_file(path)
