"""Recording the posts of an existing Jekyll archive (``scrapy import``) in the archive:
the storage side of an import (reading the posts is ``finews_spider.importing``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from ..exceptions import ArchiveUnusable
from ..files import sync_filesystem
from .core import Archive
from .sinks import PostsSink

# SQLite's page cache while importing, in KiB: a batch of 1,000 articles writes about 25 MB
# of pages, and with the 2 MB default the index pages are spilled to the WAL mid-batch,
# read back and written again (a third fewer page writes, two thirds fewer reads).
IMPORT_CACHE_KIB = 64 * 1024


def import_posts(archive: Archive, entries: list[dict], seen_at: datetime, *, rewrite: bool = False) -> list[dict]:
    """Record articles read from the posts of a Jekyll archive in ``archive``.

    Each entry is ``{"article": …, "post": (file name, bytes) or None, "prepared": …}``:
    the article as ``importing.import_article`` gives it (cleaned, with its
    ``legacy_slug``), the post it came from when that post lies outside this archive's
    ``_posts/`` (``None``: it is one of ours, left as it is), and optionally its rows and
    tokens prepared in a reading process (``ArchiveDatabase.prepare``). Such a post is
    copied into ``_posts/`` unchanged (same name, same bytes), or with ``rewrite`` written
    in today's format instead. The paper is found by its name (its slug is today's); its
    category page is written when missing, and its old category
    ``category/<legacy_slug>.html`` becomes a redirect to it, unless that name is a
    current paper's slug or an existing page that is not a redirect.

    An article archived with the same content, date and paper is ``unchanged`` and not
    written again (no revision, no new ``last_seen_at``); others are recorded as
    :meth:`Archive.publish_batch` records them (``new``, or ``changed`` with the previous
    version kept as a revision). Posts and pages are flushed to disk before the rows are
    committed; the other sinks (feeds, the reading site) follow the commit. Returns, for
    each entry, its ``slug`` and ``status``."""
    db, posts = archive.db, archive.sinks.get("posts")
    if db is None or not isinstance(posts, PostsSink):
        raise ArchiveUnusable("importing needs the database and the posts (FINEWS_EXPORTERS=jekyll,sqlite)")
    db.set_cache_size(IMPORT_CACHE_KIB)
    articles = [entry["article"] for entry in entries]
    known = db.archived_versions(
        [a["info_code"] for a in articles], ("content_hash", "published_at", "slug", "newspaper")
    )
    prepared = [entry.get("prepared") or db.prepare([entry["article"]])[0] for entry in entries]
    results = []
    with db.transaction(), ThreadPoolExecutor(1, thread_name_prefix="finews-import") as files:
        current = db.slugs() | set(archive.registry.by_slug)
        to_save = []
        for article, item in zip(articles, prepared):
            row = item.row
            row["slug"] = article["slug"] = db.slug_for(article["newspaper"], archive.registry)
            current.add(article["slug"])
            same = known.get(article["info_code"]) == (
                row["content_hash"],
                row["published_at"],
                row["slug"],
                row["newspaper"],
            )
            results.append({"slug": article["slug"], "status": "unchanged" if same else None})
            if not same:
                to_save.append(item)
        # The files are written by one thread while the rows are inserted (more threads
        # only contend for the GIL); nothing is committed before they are all on disk.
        writes = files.submit(_write_posts, posts, entries, articles, rewrite)
        saved = iter(db.save_prepared(to_save, seen_at))
        writes.result()
        # One redirect per old slug: the last article filed under it decides, as when
        # each article wrote it in turn.
        for article in {a.get("legacy_slug"): a for a in articles}.values():
            old, slug = article.get("legacy_slug"), article["slug"]
            if old and old != slug and old not in current:
                posts.write_redirect(old, article["newspaper"], slug)
        sync_filesystem(archive.root)  # the posts and pages are on disk before their rows
    for result in results:
        if result["status"] is None:
            result["status"] = next(saved)["status"]
    archive.committed(articles, results)
    return results


def _write_posts(posts: PostsSink, entries: Sequence[Mapping], articles: Sequence[Mapping], rewrite: bool) -> None:
    """The posts of imported articles, in order, and their papers' category pages."""
    pages: set[str] = set()  # slugs whose category page is there
    for entry, article in zip(entries, articles):
        post = entry.get("post")
        if post is not None and rewrite:
            posts.write_post(article)  # also writes the category page when missing
            continue
        if post is not None:
            posts.copy(post[0], post[1], article["info_code"])
        if article["slug"] not in pages:
            posts.ensure_category_page(article)
            pages.add(article["slug"])
