"""Atomic writes and the clean-up of what killed runs leave behind."""

import os

from finews_spider.archive import Archive
from finews_spider.config import project_config
from finews_spider.exporters.jekyll import site_files
from finews_spider.files import remove_stale_temporaries, write_atomic


def test_write_atomic_replaces_and_reports_unchanged(tmp_path):
    path = tmp_path / "_posts" / "a.md"
    assert write_atomic(path, "一") is True
    assert write_atomic(path, "一") is False  # same bytes: nothing written
    assert write_atomic(path, "二") is True
    assert path.read_text("utf-8") == "二"
    assert [p.name for p in path.parent.iterdir()] == ["a.md"]  # no temporary left


def test_write_atomic_makes_missing_folders_and_trusts_absent(tmp_path):
    path = tmp_path / "category" / "deep" / "b.html"
    assert write_atomic(path, "一", fsync=False, absent=True) is True  # the folders are made on the way
    assert path.read_text("utf-8") == "一"
    # absent: the caller vouches there is no such file, so the bytes are not compared first.
    assert write_atomic(path, "一", fsync=False, absent=True) is True
    assert write_atomic(path, "一", fsync=False) is False
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.html"]


def test_temporaries_of_dead_runs_are_removed_and_live_ones_kept(tmp_path):
    posts = tmp_path / "_posts"
    posts.mkdir()
    dead = posts / ".2021-12-23-NW1.md.999999999.tmp"
    live = posts / f".2021-12-23-NW2.md.{os.getpid()}.tmp"
    dead.write_text("half")
    live.write_text("being written")
    assert remove_stale_temporaries([posts]) == [dead]
    assert not dead.exists() and live.exists()


def test_site_files_are_written_once_and_never_overwritten(tmp_path):
    archive = Archive(project_config(data_dir=tmp_path, exporters=frozenset({"jekyll"})))
    assert {"_config.yml", "_layouts/post.html", "_layouts/category.html", "index.html"} <= set(site_files())
    assert all((tmp_path / rel).read_text("utf-8") == text for rel, text in site_files().items())
    (tmp_path / "_config.yml").write_text("title: mine\n")
    assert archive.sinks["posts"].ensure_site_files() == []
    assert (tmp_path / "_config.yml").read_text() == "title: mine\n"
