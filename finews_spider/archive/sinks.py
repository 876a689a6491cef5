"""Sinks: what the data folder holds besides the database, each written by one sink that
subscribes to the archive's batches (``FINEWS_SINKS``: name -> class).

A sink is built by ``Sink.from_archive(archive)``, which returns ``None`` when the
settings turn it off (as a Scrapy component raises ``NotConfigured``), and is told of
every batch twice: :meth:`Sink.write` before the rows are committed (what must be on
disk first: the posts), :meth:`Sink.committed` after (what follows from the committed
rows: the feeds, the reading site). A sink never opens the database for writing: it
reads what it needs from ``archive.db``.

- :class:`PostsSink` (``posts``): the Jekyll posts, category pages and site files
  (``FINEWS_EXPORTERS`` includes ``jekyll``);
- :class:`FeedsSink` (``feeds``): ``feed/<slug>.xml`` and ``feed/all.xml`` (posts and
  database);
- ``finews_spider.site.sink.SiteSink`` (``site``): the reading site (``FINEWS_SITE_DIR``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..exporters import atom, jekyll
from ..files import write_atomic

if TYPE_CHECKING:  # annotations only: the core imports this module
    from .core import Archive

FEED_DIR = "feed"  # data/feed/<slug>.xml and data/feed/all.xml
FEED_SIZE = 50  # articles per feed


class Sink:
    """The base of sinks: every hook does nothing."""

    name = "sink"
    #: Folders it writes into (stale temporary files there are removed when the archive opens).
    folders: tuple[Path, ...] = ()

    @classmethod
    def from_archive(cls, archive: Archive) -> Sink | None:
        """The sink for ``archive``, or ``None`` when its settings turn it off."""
        return cls()

    def write(self, articles: list[dict]) -> list[str] | None:
        """Before the batch's rows are committed: write what must be on disk first, and say
        for each article whether its files are ``new``, ``changed`` or ``unchanged`` (or
        ``None``: this sink writes nothing before the commit)."""
        return None

    def committed(self, articles: Sequence[Mapping], results: Sequence[Mapping]) -> None:
        """After the batch's rows are committed (``results[i]["status"]`` says what the
        database decided of ``articles[i]``)."""

    def lacks(self, codes: list[str]) -> list[str]:
        """The articles among ``codes`` (archived ones) whose files are missing."""
        return []

    def refresh(self, slugs: set[str]) -> None:
        """Write again what depends on these papers' committed rows (``scrapy rebuild``)."""


class PostsSink(Sink):
    """Writes the posts and category pages of one archive directory, and the minimal
    Jekyll site files (config, layouts) that are missing.

    An article whose date changed gets a new file name; its post under the old date is
    removed once the new one is in place, so an article never has two posts. The posts
    on disk are listed once, when the sink is built. With a database, posts are flushed
    by the archive's one ``syncfs`` before the rows are committed; without one, each post
    is flushed as it is written."""

    name = "posts"

    def __init__(self, root: Path, site_url: str, fsync: bool):
        self.root, self.site_url, self.fsync = Path(root), site_url, fsync
        self.posts_dir = self.root / jekyll.POSTS_DIR
        self.folders = (self.root, self.posts_dir, self.root / jekyll.CATEGORY_DIR, self.root / "_layouts")
        # infoCode -> the names of its posts (one, but for a post left under an old date);
        # tuples, not sets: a big archive's writer holds one per article.
        self.by_code: dict[str, tuple[str, ...]] = {}
        if self.posts_dir.is_dir():
            with os.scandir(self.posts_dir) as entries:
                for entry in entries:
                    code = jekyll.info_code_of_post(entry.name)
                    if code:
                        self.by_code[code] = (*self.by_code.get(code, ()), entry.name)
        self.ensure_site_files()

    @classmethod
    def from_archive(cls, archive: Archive) -> PostsSink | None:
        if "jekyll" not in archive.config.exporters:
            return None
        return cls(archive.root, archive.config.site_url, fsync=archive.db is None)

    def ensure_site_files(self) -> list[str]:
        """Write the minimal Jekyll config and layouts that are missing; never overwrite."""
        written = []
        for rel, text in jekyll.site_files().items():
            path = self.root / rel
            if not path.exists():
                write_atomic(path, text)
                written.append(rel)
        return written

    def write(self, articles: list[dict]) -> list[str]:
        return [self.write_post(article) for article in articles]

    def lacks(self, codes: list[str]) -> list[str]:
        return [code for code in codes if code not in self.by_code]

    def write_post(self, article: Mapping) -> str:
        """Write an article's post (and its newspaper's category page if missing); returns
        ``new`` (no post of the article existed), ``changed`` or ``unchanged`` (the post
        already held exactly these bytes)."""
        code = article["info_code"]
        name = jekyll.post_filename(code, article["published_at"])
        before = self.by_code.get(code, ())
        written = write_atomic(
            self.posts_dir / name, jekyll.format_post(article, self.site_url), self.fsync, absent=name not in before
        )
        self._forget_others(code, name, before)
        self.ensure_category_page(article)
        if not before:
            return "new"
        return "changed" if written or set(before) != {name} else "unchanged"

    def copy(self, name: str, data: bytes, code: str) -> None:
        """Place a post of another archive here as it is (same name, same bytes, written
        atomically); a post of the same article under another name is removed."""
        before = self.by_code.get(code, ())
        write_atomic(self.posts_dir / name, data, self.fsync, absent=name not in before)
        self._forget_others(code, name, before)

    def _forget_others(self, code: str, name: str, before: tuple[str, ...]) -> None:
        for stale in set(before) - {name}:
            (self.posts_dir / stale).unlink(missing_ok=True)
        self.by_code[code] = (name,)

    def ensure_category_page(self, article: Mapping) -> None:
        """The category page of the article's newspaper, written when missing."""
        category = self.root / jekyll.CATEGORY_DIR / f"{article['slug']}.html"
        if not category.exists():
            write_atomic(
                category, jekyll.format_category_page(article["newspaper"], article["slug"]), self.fsync, absent=True
            )

    def write_redirect(self, old: str, name: str, slug: str) -> None:
        """``category/<old>.html`` leading to the page of ``slug`` (paper ``name``), unless
        a page of its own (not one of our redirects) has that name."""
        path = self.root / jekyll.CATEGORY_DIR / f"{old}.html"
        try:
            existing = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            existing = None
        except (OSError, UnicodeDecodeError):
            return
        if existing is not None and jekyll.REDIRECT_LAYOUT not in existing:
            return  # a page of its own (not one of our redirects): never replaced
        write_atomic(path, jekyll.format_redirect_page(name, slug), fsync=False)


class FeedsSink(Sink):
    """Rewrites the Atom feeds of the papers a committed batch changed, and
    ``feed/all.xml``, from the committed rows: the newest ``FEED_SIZE`` articles each,
    atomically, each file only when its bytes changed. So the feeds always show what the
    database holds, whatever point a run is stopped at (the posts are there already)."""

    name = "feeds"

    def __init__(self, archive: Archive):
        self.archive = archive
        self.folders = (archive.root / FEED_DIR,)

    @classmethod
    def from_archive(cls, archive: Archive) -> FeedsSink | None:
        if archive.db is None or "jekyll" not in archive.config.exporters:
            return None
        return cls(archive)

    def committed(self, articles: Sequence[Mapping], results: Sequence[Mapping]) -> None:
        self.write_feeds({a["slug"] for a, r in zip(articles, results) if r["status"] != "unchanged"})

    def refresh(self, slugs: set[str]) -> None:
        self.write_feeds(slugs)

    def write_feeds(self, slugs: Iterable[str]) -> list[str]:
        """Rewrite the feeds of the papers ``slugs`` and ``feed/all.xml`` (when any paper
        changed). Returns the files written."""
        slugs = set(slugs)
        db = self.archive.db
        if db is None or not slugs:
            return []
        written = []
        for slug in [*sorted(slugs), None]:
            rel = f"{FEED_DIR}/{slug or 'all'}.xml"
            feed = atom.archive_feed(db.newest(slug, FEED_SIZE), slug, self.archive.config.site_url)
            if write_atomic(self.archive.root / rel, feed):
                written.append(rel)
        return written
