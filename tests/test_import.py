"""``scrapy import``: the real posts of the old archive (tests/fixtures/real/posts/) and
synthetic trees in its shapes, imported by the real command in a subprocess; the archive
rebuilt from its own posts; a crawl after an import; ``jekyll build`` of the result."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from finews_spider.exporters.jekyll import format_post
from finews_spider.importing import import_article, reason_kind
from tests.conftest import REFERENCE_POST, ROOT, SAMPLE_WARC, crawl, posts, require_tool, rows, scrapy
from tests.synthetic import make_old_posts

pytestmark = pytest.mark.slow  # all but three tests run scrapy import or crawl (docs/testing.md)

REAL_POSTS = ROOT / "tests" / "fixtures" / "real" / "posts"
CODE = "NW202112232223130395"


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder``: relative path -> sha256 and mtime (what 'unchanged' means)."""
    return {
        str(p.relative_to(folder)): f"{hashlib.sha256(p.read_bytes()).hexdigest()} {p.stat().st_mtime_ns}"
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def old_post(
    name: str,
    legacy_slug: str,
    code: str,
    date: str = "2021-12-23 07:25:33 +0800",
    title: str = "中国人寿山西省分公司：走前列做表率 推动山西高质量发展",
) -> bytes:
    """The reference post as another paper's: ``name`` filed under ``legacy_slug``."""
    text = REFERENCE_POST.read_text("utf-8")
    text = text.replace("山西晚报", name).replace("shanxiwanbao", legacy_slug).replace(CODE, code)
    text = text.replace("date: 2021-12-23 07:25:33 +0800", f"date: {date}")
    text = text.replace('title: "中国人寿山西省分公司：走前列做表率 推动山西高质量发展"', f'title: "{title}"')
    return text.encode("utf-8")


def write_post(folder: Path, code: str, data: bytes, day: str = "2021-12-23") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{day}-{code}.md"
    path.write_bytes(data)
    return path


def do_import(data_dir: Path, *args: str, settings: dict | None = None) -> subprocess.CompletedProcess:
    return scrapy("import", *map(str, args), data_dir=data_dir, settings=settings)


def summary(result) -> str:
    return next(line for line in result.stdout.splitlines() if line.startswith("import:"))


ARTICLE_FIELDS = (
    "info_code, title, published_at, published_date, newspaper, slug, body_html, source, "
    "editor, share_url, content_hash"
)


# -- the real posts ------------------------------------------------------------------------


def test_real_posts_import_the_article_and_report_the_rest(tmp_path):
    before = tree_digest(REAL_POSTS)
    data = tmp_path / "data"
    result = do_import(data, REAL_POSTS)
    assert result.returncode == 0, result.stderr
    assert "imported 1 (new 1, changed 0, unchanged 0), not articles 9, broken 0" in summary(result)
    skipped = [line for line in result.stderr.splitlines() if line.startswith("not an article: ")]
    assert len(skipped) == 9 and any("2021-12-01-init.md: site news post" in line for line in skipped)
    assert sum("东财滚动新闻 digest" in line for line in skipped) == 8
    assert tree_digest(REAL_POSTS) == before  # the files read are never changed
    # Copied unchanged: same name, same bytes; nothing else in _posts.
    assert posts(data) == {f"2021-12-23-{CODE}.md": (REAL_POSTS / f"2021-12-23-{CODE}.md").read_bytes()}
    [row] = rows(data / "finews.db", "SELECT * FROM articles")
    assert (row["slug"], row["newspaper"], row["source"], row["fetched_at"]) == (
        "shanxiwanbao",
        "山西晚报",
        "山西晚报",
        None,
    )
    assert row["body_html"].endswith('<p class="em_media">（文章来源：山西晚报）</p>')
    [run] = rows(data / "finews.db", "SELECT * FROM crawls")
    assert (run["spider"], run["status"], run["articles_new"], run["articles_skipped"]) == ("import", "ok", 1, 9)


def test_importing_twice_changes_nothing(tmp_path):
    data = tmp_path / "data"
    assert do_import(data, REAL_POSTS).returncode == 0
    articles = rows(data / "finews.db", "SELECT * FROM articles")
    files = tree_digest(data / "_posts") | tree_digest(data / "category")
    again = do_import(data, REAL_POSTS)
    assert again.returncode == 0
    assert "imported 1 (new 0, changed 0, unchanged 1)" in summary(again)
    assert rows(data / "finews.db", "SELECT * FROM articles") == articles  # not even last_seen_at
    assert rows(data / "finews.db", "SELECT count(*) AS n FROM revisions") == [{"n": 0}]
    assert tree_digest(data / "_posts") | tree_digest(data / "category") == files


def test_the_imported_row_equals_a_crawl_of_the_same_article(tmp_path):
    """Today's cleaning: the reference post gives the row the crawl of its recording gives."""
    imported, crawled = tmp_path / "imported", tmp_path / "crawled"
    assert do_import(imported, REFERENCE_POST).returncode == 0
    assert crawl("finews", crawled, settings={"FINEWS_REPLAY": str(SAMPLE_WARC)}).returncode == 0
    sql = f"SELECT {ARTICLE_FIELDS}, doc_id FROM articles WHERE info_code=?"  # doc_id: its publication second
    assert rows(imported / "finews.db", sql, (CODE,)) == rows(crawled / "finews.db", sql, (CODE,))


def test_a_crawl_after_an_import_does_not_fetch_the_imported_article(tmp_path):
    data = tmp_path / "data"
    assert do_import(data, REFERENCE_POST).returncode == 0
    result = crawl("finews", data, settings={"FINEWS_REPLAY": str(SAMPLE_WARC)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "status=ok new=33 changed=0 unchanged=0 skipped=1 " in result.stderr
    assert "finews/articles_skipped': 1" in result.stderr


# -- papers by name, legacy URLs -------------------------------------------------------------


def test_paper_by_name_and_legacy_category_redirects(tmp_path):
    old = tmp_path / "old" / "_posts"
    write_post(old, "NW202112232223130001", old_post("陕西日报", "shanxiribao", "NW202112232223130001"))
    write_post(old, "NW202112232223130002", old_post("漯河日报", "taheribao", "NW202112232223130002"))
    write_post(old, "NW202112232223130003", old_post("抚州日报", "fuzhouribao", "NW202112232223130003"))
    data = tmp_path / "data"
    (data / "category").mkdir(parents=True)
    own_page = "---\nlayout: category\ntitle: 山西日报新闻\ncategory: shanxiribao\n---\n"
    (data / "category" / "shanxiribao.html").write_text(own_page, "utf-8")
    result = do_import(data, old)
    assert result.returncode == 0, result.stderr
    slugs = {r["info_code"][-1]: r["slug"] for r in rows(data / "finews.db", "SELECT info_code, slug FROM articles")}
    assert slugs == {"1": "shaanxiribao", "2": "luoheribao", "3": "jiangxifuzhouribao"}
    category = data / "category"
    for slug in slugs.values():  # each paper's own page, under its correct slug
        assert yaml.safe_load((category / f"{slug}.html").read_text("utf-8").split("---")[1])["category"] == slug
    redirect = (category / "taheribao.html").read_text("utf-8")
    assert "layout: redirect" in redirect and "redirect_to: /category/luoheribao.html" in redirect
    # Old slugs that are current slugs (山西日报's, 福州日报's) keep their own pages.
    assert (category / "shanxiribao.html").read_text("utf-8") == own_page
    assert not (category / "fuzhouribao.html").exists()


def test_rewrite_writes_todays_format(tmp_path):
    old = tmp_path / "old"
    source = write_post(old, "NW202112232223130001", old_post("陕西日报", "shanxiribao", "NW202112232223130001"))
    data = tmp_path / "data"
    result = do_import(data, old, "--rewrite")
    assert result.returncode == 0, result.stderr
    [row] = rows(data / "finews.db", "SELECT * FROM articles")
    written = (data / "_posts" / source.name).read_text("utf-8")
    from datetime import datetime

    expected = format_post(
        {**row, "published_at": datetime.fromisoformat(row["published_at"])}, "//finews.withounder.com"
    )
    assert written == expected and "categories: shaanxiribao" in written
    assert source.read_bytes() != written.encode()  # the source stays as it was


def test_posts_inside_the_data_folder_stay_as_they_are(tmp_path):
    data = tmp_path / "data"
    ours = write_post(
        data / "_posts", "NW202112232223130001", old_post("陕西日报", "shanxiribao", "NW202112232223130001")
    )
    before = tree_digest(data / "_posts")
    result = do_import(data, data / "_posts", "--rewrite")
    assert result.returncode == 0, result.stderr
    assert tree_digest(data / "_posts") == before
    assert rows(data / "finews.db", "SELECT slug FROM articles") == [{"slug": "shaanxiribao"}]
    assert ours.exists()


def test_a_post_is_ours_when_it_lies_in_the_data_folders_posts_once_links_are_resolved(tmp_path):
    from finews_spider.api import _outside as outside

    posts_dir = tmp_path / "data" / "_posts"
    ours = write_post(posts_dir, "NW202112232223130001", b"x")
    other = write_post(tmp_path / "old", "NW202112232223130002", b"y")
    (tmp_path / "linked").symlink_to(posts_dir)  # the posts folder under another name
    (tmp_path / "old" / "link.md").symlink_to(ours)  # a link to one of ours, among others
    (posts_dir / "away.md").symlink_to(other)  # a link from ours to another's
    is_outside = outside(posts_dir)
    assert not is_outside(ours) and not is_outside(tmp_path / "linked" / ours.name)
    assert not is_outside(tmp_path / "old" / "link.md")
    assert is_outside(other) and is_outside(posts_dir / "away.md")


# -- broken posts, exit statuses ---------------------------------------------------------------


def test_broken_posts_are_reported_with_file_and_reason_and_counted(tmp_path):
    old = tmp_path / "old"
    good = old_post("山西晚报", "shanxiwanbao", CODE)
    write_post(old, CODE, good)
    write_post(
        old,
        "NW202112232223130001",
        good.replace(b"\n\n<http", b"\n<http").replace(CODE.encode(), b"NW202112232223130001"),
    )
    write_post(old, "NW202112232223130002", b"no front matter at all")
    write_post(
        old / "sub",
        "NW202112232223130003",
        good.replace(b"date: 2021-12-23 07:25:33 +0800", b"date: soon").replace(CODE.encode(), b"NW202112232223130003"),
    )
    (old / "notes.txt").write_text("not a post", "utf-8")
    data = tmp_path / "data"
    result = do_import(data, old)
    assert result.returncode == 0, result.stderr
    assert (
        "imported 1 (new 1, changed 0, unchanged 0), not articles 0, broken 3, duplicates 0, other files ignored 1"
        in summary(result)
    )
    broken = sorted(line for line in result.stderr.splitlines() if line.startswith("broken: "))
    assert len(broken) == 3
    assert f"{old}/2021-12-23-NW202112232223130002.md: no front matter" in broken[1]
    assert f"{old}/sub/2021-12-23-NW202112232223130003.md: date is not YYYY-MM-DD HH:MM:SS +0800: 'soon'" in broken[2]
    assert "broken by reason: " in result.stdout and "no share link: 1" in result.stdout
    assert [r["articles_dropped"] for r in rows(data / "finews.db", "SELECT * FROM crawls")] == [3]
    assert list(posts(data)) == [f"2021-12-23-{CODE}.md"]


def test_duplicates_across_folders_are_read_once(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_post(a, CODE, REFERENCE_POST.read_bytes())
    write_post(b, CODE, REFERENCE_POST.read_bytes())
    result = do_import(tmp_path / "data", a, b)
    assert result.returncode == 0 and "imported 1 (new 1" in summary(result) and "duplicates 1" in summary(result)
    assert (
        f"duplicate: {b}/2021-12-23-{CODE}.md: {CODE} was already read from {a}/2021-12-23-{CODE}.md" in result.stderr
    )


def test_nothing_readable_exits_1(tmp_path):
    old = tmp_path / "old"
    write_post(old, "NW1", b"---\ntitle: x\n")
    result = do_import(tmp_path / "data", old)
    assert result.returncode == 1
    assert "nothing imported: no file could be read as a post" in result.stderr
    (tmp_path / "empty").mkdir()
    result = do_import(tmp_path / "data", tmp_path / "empty")
    assert result.returncode == 1 and "no post files found" in result.stderr


def test_only_digests_is_not_a_failure(tmp_path):
    result = do_import(tmp_path / "data", REAL_POSTS / "2021-12-01-init.md")
    assert result.returncode == 0 and "imported 0 (new 0, changed 0, unchanged 0), not articles 1" in summary(result)


def test_usage_errors_exit_2(tmp_path):
    assert do_import(tmp_path / "data").returncode == 2
    missing = do_import(tmp_path / "data", tmp_path / "nowhere")
    assert missing.returncode == 2 and f"no such file or folder: {tmp_path / 'nowhere'}" in missing.stderr
    assert do_import(tmp_path / "data", REAL_POSTS, settings={"FINEWS_FEED_COUNT": "-1"}).returncode == 2


def test_a_held_lock_exits_75(tmp_path):
    from finews_spider.archive.lock import RunLock

    data = tmp_path / "data"
    lock = RunLock(data / ".locks" / "finews.lock", "finews")
    try:
        result = do_import(data, REAL_POSTS)
    finally:
        lock.release()
    assert result.returncode == 75, result.stderr


def test_unusable_archive_exits_1(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "finews.db").write_bytes(b"this is not a database" * 100)
    result = do_import(data, REAL_POSTS)
    assert result.returncode == 1 and "cannot be used" in result.stderr


# -- the way back when the database is lost -------------------------------------------------------


def test_the_archives_own_posts_rebuild_a_lost_database_then_reextract_refreshes_it(upstream, tmp_path):
    data = tmp_path / "data"
    assert crawl("finews", data, upstream).returncode == 0
    db = data / "finews.db"
    sql = f"SELECT {ARTICLE_FIELDS} FROM articles ORDER BY info_code"
    mentions_sql = "SELECT * FROM mentions ORDER BY info_code, kind, market, code"
    before, mentions, fetched = (
        rows(db, sql),
        rows(db, mentions_sql),
        rows(db, "SELECT info_code, fetched_at FROM articles ORDER BY info_code"),
    )
    post_files = tree_digest(data / "_posts")
    for path in data.glob("finews.db*"):
        path.unlink()
    result = do_import(data, data / "_posts")
    assert result.returncode == 0, result.stderr
    assert "imported 34 (new 34" in summary(result)
    # A post keeps everything but the editor credit and the securities' codes (cleaning
    # took them out of the body): those come back from the WARCs.
    without_editor = lambda rs: [{k: v for k, v in r.items() if k != "editor"} for r in rs]  # noqa: E731
    assert without_editor(rows(db, sql)) == without_editor(before)
    # doc_ids follow the publication order, whichever way the rows came back (articles of
    # the same second may swap theirs).
    ids = rows(db, "SELECT doc_id FROM articles ORDER BY published_at, doc_id")
    assert [r["doc_id"] for r in ids] == sorted(r["doc_id"] for r in ids)
    assert any(r["editor"] for r in before)  # the sample has editors (and no tagged securities)
    assert tree_digest(data / "_posts") == post_files
    result = scrapy("reextract", str(data / "warc"), "--workers", "1", data_dir=data)
    assert result.returncode == 0, result.stderr[-2000:]
    assert rows(db, "SELECT info_code, fetched_at FROM articles ORDER BY info_code") == fetched
    assert rows(db, sql) == before and rows(db, mentions_sql) == mentions


# -- synthetic trees in the old shapes, and Jekyll ------------------------------------------------


def test_synthetic_old_archive(tmp_path):
    old = tmp_path / "old" / "_posts"
    counts = make_old_posts(old, 400, seed=7)
    result = do_import(tmp_path / "data", old, "--workers", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    line = summary(result)
    assert f"imported {counts['article']} (new {counts['article']}" in line
    assert f"not articles {counts['digest']}, broken {counts['broken']}" in line
    count = rows(tmp_path / "data" / "finews.db", "SELECT count(*) AS n FROM articles")[0]["n"]
    assert count == counts["article"]
    # Stock tags in old bodies become mentions, and leave no markup behind.
    assert rows(tmp_path / "data" / "finews.db", "SELECT count(DISTINCT info_code) AS n FROM mentions")[0]["n"] > 0
    assert not rows(tmp_path / "data" / "finews.db", "SELECT 1 FROM articles WHERE body_html LIKE '%stock_1%'")


def test_jekyll_builds_the_imported_archive(tmp_path):
    jekyll = require_tool("jekyll")
    old = tmp_path / "old"
    for name in REAL_POSTS.iterdir():
        write_post(old, name.stem.split("-", 3)[3], name.read_bytes(), name.stem[:10])
    write_post(old, "NW202112232223130002", old_post("漯河日报", "taheribao", "NW202112232223130002"))
    data = tmp_path / "data"
    assert do_import(data, old).returncode == 0
    out = tmp_path / "site"
    built = subprocess.run(
        [jekyll, "build", "--source", str(data), "--destination", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (out / "shanxiwanbao" / "2021" / "12" / "23" / f"{CODE}.html").exists()
    redirect = (out / "category" / "taheribao.html").read_text("utf-8")
    assert '<meta http-equiv="refresh" content="0; url=/category/luoheribao.html">' in redirect
    assert '<a href="/category/luoheribao.html">漯河日报新闻</a>' in redirect
    assert (out / "category" / "luoheribao.html").exists()


# -- pure parts ----------------------------------------------------------------------------------


def test_import_article_keeps_an_unusual_name_and_refuses_an_empty_body():
    data = old_post("山西<b>晚报", "shanxiwanbao", CODE)
    result = import_article(data, REFERENCE_POST.name)
    assert result["newspaper"] == "山西<b>晚报"  # kept as given (escaped wherever it is shown)
    body = re.sub(rb"---\n<p>.*?(?=\n\n<http)", b"---\n<p>&nbsp;</p>", REFERENCE_POST.read_bytes(), flags=re.S)
    result = import_article(body, REFERENCE_POST.name)
    assert result.kind == "broken" and result.reason == "body has no text left after cleaning"


def test_reason_kind():
    assert reason_kind("date is not YYYY-MM-DD HH:MM:SS +0800: 'soon'") == "date is not YYYY-MM-DD HH:MM:SS +0800"
    assert (
        reason_kind("file name says NW202112232223130001, share link says NW202112232223130002")
        == "file name says …, share link says …"
    )


def test_no_odd_post_stops_an_import(tmp_path):
    """A FIFO named *.md (it would hang the import while it holds the lock), a post too
    large, a YAML alias bomb (658 bytes that expand to gigabytes), dates of year 9999 and
    0001: each is a broken post with its reason, and the good post is imported (exit 0)."""
    old = tmp_path / "old"
    write_post(old, CODE, old_post("山西晚报", "shanxiwanbao", CODE))
    os.mkfifo(old / "2021-12-23-NW202112232223130001.md")
    write_post(old, "NW202112232223130002", b"---\ntitle: x\n---\n" + b"x" * (5 * 1024 * 1024))
    bomb = "".join(f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    write_post(old, "NW202112232223130003", ("---\na: &a [x,x,x,x,x,x,x,x,x]\n" + bomb + "title: t\n---\nx").encode())
    for i, date in enumerate(["9999-12-31 23:00:00 -1000", "0001-01-01 00:00:00 +0800"], start=4):
        code = f"NW20211223222313000{i}"
        write_post(old, code, old_post("山西晚报", "shanxiwanbao", code, date=date))
    result = do_import(tmp_path / "data", old)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "imported 1 (new 1" in summary(result) and "broken 5" in summary(result)
    stderr = result.stderr
    assert "NW202112232223130001.md: not a regular file" in stderr
    assert "NW202112232223130002.md: larger than 4 MiB" in stderr
    assert "NW202112232223130003.md: front matter uses YAML anchors or aliases" in stderr
    assert "NW202112232223130004.md: date '9999-12-31 23:00:00 -1000' is out of range" in stderr
    assert "NW202112232223130005.md: date '0001-01-01 00:00:00 +0800' is out of range" in stderr
    assert rows(tmp_path / "data" / "finews.db", "SELECT status FROM crawls") == [{"status": "ok"}]


def test_an_old_post_never_replaces_a_crawled_version(upstream, tmp_path):
    """The archive holds the article as a crawl fetched it: an import of an older post of
    it (another title) keeps the crawled version, row and post."""
    data = tmp_path / "data"
    assert crawl("finews", data, upstream).returncode == 0
    crawled = rows(data / "finews.db", "SELECT title, content_hash FROM articles WHERE info_code=?", (CODE,))
    post = next((data / "_posts").glob(f"*-{CODE}.md")).read_bytes()
    old = tmp_path / "old"
    write_post(old, CODE, old_post("山西晚报", "shanxiwanbao", CODE, title="旧标题"))
    result = do_import(data, old)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "kept as crawled 1" in summary(result)
    assert rows(data / "finews.db", "SELECT title, content_hash FROM articles WHERE info_code=?", (CODE,)) == crawled
    assert next((data / "_posts").glob(f"*-{CODE}.md")).read_bytes() == post
    assert rows(data / "finews.db", "SELECT count(*) AS n FROM revisions") == [{"n": 0}]
