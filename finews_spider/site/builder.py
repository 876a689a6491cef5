"""The reading site: static HTML rendered from the SQLite archive with Jinja2.

URLs (all relative to ``site_url``):

- ``<slug>/<yyyy>/<mm>/<dd>/<infoCode>.html``: an article (the Jekyll permalink of its post);
- ``index.html``: the newest articles; ``page/<k>.html``: older ones;
- ``category/<slug>.html``: a newspaper's newest articles; ``category/<slug>/page/<k>.html``: older ones;
- ``newspapers.html``: every newspaper, grouped by province; ``site.css``;
- ``feed.xml`` and ``category/<slug>.xml``: Atom feeds of the newest articles (whole bodies).

**Pagination counts from the oldest article.** A listing of ``n`` articles with pages of
``P`` has ``q = n // P`` full chunks; numbered page ``k`` (1 ≤ k < q) holds the articles of
rank ``(k-1)·P … k·P-1`` (rank 0 = oldest), shown newest first, and the front page
(``index.html`` / ``category/<slug>.html``) holds the rest: the newest ``P`` to ``2P-1``
articles. So a numbered page keeps its URL and its articles for ever when articles are
added at the new end (the everyday case); adding articles rewrites the front page, and
once per ``P`` articles creates a numbered page and rewrites the one before it (its
"newer" link). An article inserted among old ones (a backfill) shifts the pages from its
rank upwards, and only those are rewritten.

Every string from upstream goes through Jinja2's autoescape; bodies were sanitized when
archived and go in as they are. Files are written through a temporary file and a rename,
and not at all when they already hold the same bytes.
"""

from __future__ import annotations

import bisect
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from ..exporters.atom import ID_PREFIX as FEED_ID_PREFIX
from ..exporters.atom import FeedEntry, format_feed
from ..exporters.jekyll import post_path as article_url
from ..files import holds, write_atomic

PAGE_SIZE = 50
FEED_SIZE = 50  # articles in a feed
JUMP_PAGES = 20
WRITER_THREADS = (
    2  # threads writing files during a full build  # numbered pages linked from a front page (the newest ones)
)
PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
STATE_FILE = ".finews-site"  # marks a directory this module built (see is_site_dir)
#: What every file the site writes carries near its start (the pages' and the feeds'
#: generator, the style sheet's first comment, the state file's first line): the site
#: overwrites or removes only files that carry it (:func:`is_ours`), so a file it did not
#: write (a user's index.html, a note beside the pages) is never touched.
OWN_MARKS = (
    b'<meta name="generator" content="finews archive">',
    b"<generator>finews archive</generator>",
    b"/* generator: finews archive",
    b"finews site\n",
)

_SAFE_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_SAFE_CODE = re.compile(r"[A-Za-z0-9]+")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")

OTHER_PROVINCE = "其他"  # the newspapers page's group of papers with no province (missing from the registry)


class SiteError(Exception):
    """The site cannot be built (bad output directory, archive without the expected tables)."""


class ForeignFile(SiteError):
    """A file the site would overwrite or remove, which it did not write (exit 2)."""

    def __init__(self, path: Path, action: str):
        super().__init__(
            f"{path} was not written by scrapy site and would be {action}: nothing of it is touched; move it "
            f"away, or build the site into another folder"
        )
        self.path = path


def is_ours(path: Path) -> bool:
    """Whether ``path`` is a file the site wrote (it carries one of :data:`OWN_MARKS` in
    its first 2 KiB); a symbolic link never is."""
    try:
        if path.is_symlink():
            return False
        with open(path, "rb") as f:
            head = f.read(2048)
    except (FileNotFoundError, IsADirectoryError):
        return False
    return any(mark in head for mark in OWN_MARKS)


def remove_ours(path: Path) -> bool:
    """Remove ``path`` when it exists; :class:`ForeignFile` when the site did not write it."""
    if not path.exists() and not path.is_symlink():
        return False
    if not is_ours(path):
        raise ForeignFile(path, "removed")
    path.unlink()
    return True


@dataclass(frozen=True, slots=True)
class Entry:
    """What listings and neighbour links need of an article (no body)."""

    info_code: str
    slug: str
    title: str
    published_at: str  # ISO, Beijing time
    newspaper: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.published_at, self.info_code)

    @property
    def url(self) -> str:
        return article_url(self.slug, self.published_at, self.info_code)

    @property
    def display_date(self) -> str:
        return display_date(self.published_at)


def display_date(published_at: str) -> str:
    """``2021-12-23T07:25:33+08:00`` -> ``2021-12-23 07:25``."""
    return published_at[:10] + " " + published_at[11:16]


def _pinyin(text: str) -> str:
    """Sort key: provinces in the order of their pinyin, as Chinese indexes list them."""
    from pypinyin import lazy_pinyin  # here: importing it takes 0.3 s, which every scrapy command paid

    return " ".join(lazy_pinyin(text))


# -- pagination ------------------------------------------------------------------------
def page_count(n: int, size: int = PAGE_SIZE) -> int:
    """Numbered pages of a listing of ``n`` articles (the front page not counted)."""
    return max(n // size - 1, 0)


def page_bounds(n: int, page: int, size: int = PAGE_SIZE) -> tuple[int, int]:
    """Ranks (oldest = 0) ``[start, end)`` of numbered ``page`` (≥ 1), or of the front page
    when ``page`` is 0."""
    pages = page_count(n, size)
    if page == 0:
        return pages * size, n
    if not 1 <= page <= pages:
        raise ValueError(f"page {page} out of 1..{pages}")
    return (page - 1) * size, page * size


def page_of_rank(n: int, rank: int, size: int = PAGE_SIZE) -> int:
    """The numbered page holding ``rank``, or 0 for the front page."""
    pages = page_count(n, size)
    page = rank // size + 1
    return page if page <= pages else 0


# -- listings ----------------------------------------------------------------------------
@dataclass
class Listing:
    """An ordered (oldest first) list of articles shown as a front page and numbered pages."""

    entries: list[Entry]
    front: str  # path of the front page, e.g. "index.html"
    page_prefix: str  # numbered page k is f"{page_prefix}{k}.html"
    title: str
    slug: str | None = None  # the newspaper, for a newspaper's listing
    keys: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self):
        self.keys = [e.key for e in self.entries]

    def path(self, page: int) -> str:
        return self.front if page == 0 else f"{self.page_prefix}{page}.html"

    @property
    def pages(self) -> int:
        return page_count(len(self.entries))

    @property
    def feed(self) -> str:
        """Its Atom feed: ``feed.xml`` for the home listing, ``category/<slug>.xml`` for a paper."""
        return f"category/{self.slug}.xml" if self.slug else "feed.xml"

    def rank(self, key: tuple[str, str]) -> int:
        """Where an article with ``key`` is (or would be) in this listing."""
        return bisect.bisect_left(self.keys, key)

    def pages_from_rank(self, rank: int) -> list[int]:
        """The pages whose content can change when the article at ``rank`` is added,
        changed or removed: its page and every newer one, the last numbered page before
        the front (whose "newer" link follows the front), and the front page."""
        n, pages = len(self.entries), self.pages
        first = page_of_rank(n, min(rank, max(n - 1, 0)))
        first = pages if first == 0 else first
        first = max(min(first, pages - 1), 1)  # the page before the last may change its newer link
        return [0] + list(range(first, pages + 1)) if pages else [0]


@dataclass
class SiteIndex:
    """Every article's entry, per newspaper and overall, and the newspapers: all that
    pages other than an article's body need. Built from the database in one query."""

    home: Listing
    papers: dict[str, Listing]
    newspapers: list[dict]  # slug, name, province, city, count
    position: dict[str, tuple[str, int]]  # info_code -> (slug, rank in the paper)
    skipped: int = 0

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> SiteIndex:
        try:
            rows = conn.execute(
                "SELECT info_code, slug, title, published_at, newspaper FROM articles ORDER BY published_at, info_code"
            )
            papers_rows = conn.execute("SELECT slug, name, province, city FROM newspapers ORDER BY slug").fetchall()
        except sqlite3.OperationalError as exc:
            raise SiteError(f"not a finews archive: {exc}") from exc
        entries, skipped = [], 0
        for code, slug, title, published, name in rows:
            if not (
                code
                and _SAFE_CODE.fullmatch(code)
                and slug
                and _SAFE_SLUG.fullmatch(slug)
                and published
                and _DATE.match(published)
            ):
                skipped += 1  # never let a bad value become a path
                continue
            entries.append(Entry(code, slug, title or code, published, name or slug))
        by_paper: dict[str, list[Entry]] = {}
        for e in entries:
            by_paper.setdefault(e.slug, []).append(e)
        names = {slug: (name, province, city) for slug, name, province, city in papers_rows}
        for slug, items in by_paper.items():
            names.setdefault(slug, (items[-1].newspaper, None, None))
        papers, newspapers, position = {}, [], {}
        for slug, (name, province, city) in sorted(names.items()):
            if not _SAFE_SLUG.fullmatch(slug or ""):
                continue
            items = by_paper.get(slug, [])
            papers[slug] = Listing(items, f"category/{slug}.html", f"category/{slug}/page/", f"{name}新闻", slug)
            newspapers.append(
                {
                    "slug": slug,
                    "name": name or slug,
                    "province": (province or "").strip() or OTHER_PROVINCE,
                    "city": city or "",
                    "count": len(items),
                }
            )
            for rank, e in enumerate(items):
                position[e.info_code] = (slug, rank)
        home = Listing(entries, "index.html", "page/", "最新文章")
        return cls(home, papers, newspapers, position, skipped)

    def neighbours(self, info_code: str) -> tuple[Entry | None, Entry | None]:
        """(older, newer) article of the same newspaper."""
        slug, rank = self.position[info_code]
        items = self.papers[slug].entries
        return (items[rank - 1] if rank > 0 else None, items[rank + 1] if rank + 1 < len(items) else None)


# -- writing ---------------------------------------------------------------------------
class Writer:
    """Writes files under ``root`` atomically (temporary file, then rename), skipping those
    already holding the bytes. With ``threads`` > 0 the writes are done by that many threads
    while the caller renders the next pages (file creation releases the GIL, so the disk's
    latency overlaps the rendering; on the shared development machine the gain was lost in
    the noise of other jobs' disk use, so it is not quoted); :meth:`close`
    waits for them and raises the first error. Counts: ``written``, ``unchanged``."""

    def __init__(self, root: Path, threads: int = 0, max_pending: int = 512):
        self.root = Path(root)
        self.written = self.unchanged = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="site-writer") if threads > 0 else None
        self._slots = threading.BoundedSemaphore(max_pending)
        self._error: BaseException | None = None

    def write(self, rel: str, data: bytes) -> None:
        if self._pool is None:
            self._write(rel, data)
            return
        if self._error is not None:
            raise self._error
        self._slots.acquire()
        self._pool.submit(self._write_in_thread, rel, data)

    def _write_in_thread(self, rel: str, data: bytes) -> None:
        try:
            self._write(rel, data)
        except BaseException as exc:
            self._error = self._error or exc
        finally:
            self._slots.release()

    def _write(self, rel: str, data: bytes) -> None:
        path = self.root / rel
        if holds(path, data) and not path.is_symlink():
            with self._lock:
                self.unchanged += 1
            return
        if (path.exists() or path.is_symlink()) and not is_ours(path):
            raise ForeignFile(path, "overwritten")
        write_atomic(path, data, fsync=False, absent=True)
        with self._lock:
            self.written += 1

    def close(self) -> None:
        """Wait for every pending write; raise the first error of a writing thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._error is not None:
            raise self._error


# -- rendering --------------------------------------------------------------------------
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


class Renderer:
    """Renders the pages of one site (``site_url`` is the prefix of every link)."""

    def __init__(self, index: SiteIndex, writer: Writer, site_url: str = "/", conn: sqlite3.Connection | None = None):
        self.index, self.writer, self.conn = index, writer, conn
        self.base = site_url.rstrip("/") + "/"
        env = environment()
        env.globals.update(base=self.base, site_title="finews 地方报纸存档")
        self.article_template = env.get_template("article.html")
        self.listing_template = env.get_template("listing.html")
        self.newspapers_template = env.get_template("newspapers.html")
        self.redirect_template = env.get_template("redirect.html")
        self.paper_names = {p["slug"]: p["name"] for p in index.newspapers}

    def article(self, row: Mapping) -> bool:
        """Render an article's page; False when the article is not in the index."""
        code = row["info_code"]
        if code not in self.index.position:
            return False
        older, newer = self.index.neighbours(code)
        html = self.article_template.render(
            a=row,
            date=display_date(row["published_at"]),
            older=older,
            newer=newer,
            paper_name=self.paper_names.get(row["slug"]) or row["newspaper"],
        )
        self.writer.write(article_url(row["slug"], row["published_at"], code), html.encode("utf-8"))
        return True

    def listing_page(self, listing: Listing, page: int) -> None:
        n, pages = len(listing.entries), listing.pages
        start, end = page_bounds(n, page)
        items = listing.entries[start:end][::-1]
        if page == 0:
            older = pages or None
            newer = None
            jump = list(range(pages, max(pages - JUMP_PAGES, 0), -1))
            if pages > JUMP_PAGES:
                jump.append(1)  # the oldest; the pages between are reached page by page
        else:
            older = page - 1 or None
            newer = page + 1 if page < pages else 0
            jump = []
        html = self.listing_template.render(
            listing=listing,
            page=page,
            items=items,
            older=older,
            newer=newer,
            jump=jump,
            older_path=listing.path(older) if older else None,
            newer_path=listing.path(newer) if newer is not None else None,
            count=n if page == 0 else None,
            newspapers_link=listing.slug is None,
        )
        self.writer.write(listing.path(page), html.encode("utf-8"))

    def listing(self, listing: Listing, pages: Iterable[int] | None = None) -> None:
        for page in range(listing.pages + 1) if pages is None else pages:
            self.listing_page(listing, page)

    def feed(self, listing: Listing) -> None:
        """The Atom feed of a listing's newest articles, with their bodies (``exporters.atom``)."""
        newest = listing.entries[-FEED_SIZE:][::-1]
        extra: dict[str, tuple[str, str]] = {}
        if newest:
            if self.conn is None:
                raise ValueError("the feeds carry the bodies: the Renderer needs the archive's connection")
            codes = [e.info_code for e in newest]
            extra = {
                code: (body, share)
                for code, body, share in self.conn.execute(
                    f"SELECT info_code, body_html, share_url FROM articles WHERE info_code IN ({','.join('?' * len(codes))})",
                    codes,
                )
            }
        entries = [
            FeedEntry(
                entry_id=FEED_ID_PREFIX + e.info_code,
                title=e.title,
                url=self.base + e.url,
                published=e.published_at,
                newspaper=e.newspaper,
                category=e.slug,
                share_url=extra.get(e.info_code, ("", ""))[1] or None,
                content_html=extra.get(e.info_code, ("", ""))[0] or "",
            )
            for e in newest
        ]
        xml = format_feed(
            feed_id=FEED_ID_PREFIX + (listing.slug or "all"),
            title=listing.title,
            self_url=self.base + listing.feed,
            alternate_url=self.base + listing.front,
            entries=entries,
        )
        self.writer.write(listing.feed, xml.encode("utf-8"))

    def newspapers(self) -> None:
        groups: dict[str, list[dict]] = {}
        for paper in sorted(
            self.index.newspapers, key=lambda p: (p["province"] == OTHER_PROVINCE, _pinyin(p["province"]), p["slug"])
        ):
            groups.setdefault(paper["province"], []).append(paper)
        html = self.newspapers_template.render(groups=groups)
        self.writer.write("newspapers.html", html.encode("utf-8"))

    def static(self) -> None:
        for path in sorted(STATIC_DIR.iterdir()):
            if path.is_file():
                self.writer.write(path.name, path.read_bytes())

    def redirect(self, rel: str, target: str, title: str) -> None:
        html = self.redirect_template.render(target=self.base + target, title=title)
        self.writer.write(rel, html.encode("utf-8"))


ARTICLE_SQL = "SELECT info_code, slug, title, published_at, newspaper, body_html, share_url, source FROM articles"


def _rows(conn: sqlite3.Connection, where: str = "", params: Iterable = ()) -> Iterable[dict]:
    cursor = conn.execute(ARTICLE_SQL + where, tuple(params))
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row))


def _check_out_dir(out_dir: str | Path) -> Path:
    """``out_dir``, made if missing, checked writable by writing a probe (so the error is
    the real one: a read-only file system, a full disk), and, when it holds no site built
    here yet, checked for files of the site's shapes that the site did not write: it
    stops before writing anything (:class:`ForeignFile`) rather than half-way."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise SiteError(f"cannot write the site to {out_dir}: not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".finews-probe.{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise SiteError(f"cannot write to {out_dir}: {exc.strerror or exc}") from exc
    if not is_site_dir(out_dir):
        for dirpath, _dirs, files in os.walk(out_dir):
            for name in sorted(files):
                path = Path(dirpath) / name
                if _OUR_SHAPES.fullmatch(path.relative_to(out_dir).as_posix()) and not is_ours(path):
                    raise ForeignFile(path, "overwritten")
    return out_dir


#: The paths a site has (pages, feeds, style sheet, state file): a file of these shapes
#: that the site did not write stops a first build before anything is written.
_OUR_SHAPES = re.compile(
    r"(?:index|newspapers)\.html|site\.css|feed\.xml|\.finews-site|page/\d+\.html"
    r"|category/[^/]+(?:\.html|\.xml|/page/\d+\.html)"
    r"|[a-z0-9][a-z0-9_-]*/\d{4}/\d{2}/\d{2}/[A-Za-z0-9]+\.html"
)


def build_site(
    conn: sqlite3.Connection,
    out_dir: str | Path,
    site_url: str = "/",
    prune: bool = True,
    threads: int = WRITER_THREADS,
) -> dict:
    """Render the whole site from the archive open on ``conn`` (only read) into ``out_dir``.

    Files already holding the same bytes are not written, so building again over an
    unchanged archive writes nothing. With ``prune``, article and numbered listing pages
    that the archive no longer has (an article whose date changed moved to a new URL)
    are removed. ``threads`` threads write the files while the pages are rendered (see
    :class:`Writer`). Returns figures: articles, files written, unchanged, removed, seconds."""
    t0 = time.perf_counter()
    out_dir = _check_out_dir(out_dir)
    index = SiteIndex.load(conn)
    writer = Writer(out_dir, threads)
    r = Renderer(index, writer, site_url, conn)
    articles = 0
    try:
        for row in _rows(conn):
            articles += r.article(row)
        r.listing(index.home)
        r.feed(index.home)
        for listing in index.papers.values():
            r.listing(listing)
            r.feed(listing)
        r.newspapers()
        r.static()
    finally:
        writer.close()
    removed = _prune(out_dir, index) if prune else 0
    writer.write(STATE_FILE, state_text(site_url))
    return {
        "articles": articles,
        "skipped": index.skipped,
        "written": writer.written,
        "unchanged": writer.unchanged,
        "removed": removed,
        "seconds": round(time.perf_counter() - t0, 3),
    }


def update_site(
    conn: sqlite3.Connection,
    out_dir: str | Path,
    info_codes: Iterable[str],
    site_url: str = "/",
    previous: Mapping[str, tuple[str, str]] | None = None,
) -> dict:
    """Bring the site in ``out_dir`` up to date after the articles ``info_codes`` were added
    or changed in the archive. What it (re)renders, writing only files whose bytes differ:

    - the page of each of these articles, and of its older and newer neighbour in its newspaper;
    - in its newspaper's listing and in the home listing: the front page, the numbered page
      holding the article and every newer numbered page (for new articles, the newest
      ones: usually just the front page, plus one new numbered page and the one before it
      once every ``PAGE_SIZE`` articles), and the two Atom feeds (``feed.xml``, ``category/<slug>.xml``);
    - ``newspapers.html`` (the counts) and the stylesheet.

    An article that moved (its date or newspaper changed) is found at its old place only
    if ``previous`` maps its infoCode to its former ``(slug, published_at)``: its old page
    is removed and the listings and neighbours around its old place are rendered too.
    Without it, run :func:`build_site` (which prunes) to remove the old page. An infoCode
    no longer in the archive is treated the same way. Returns the figures of
    :func:`build_site` (``articles`` = article pages rendered)."""
    t0 = time.perf_counter()
    out_dir = _check_out_dir(out_dir)
    codes = sorted(set(info_codes))
    previous = previous or {}
    index = SiteIndex.load(conn)
    writer = Writer(out_dir)
    r = Renderer(index, writer, site_url, conn)
    to_render: set[str] = set()
    home_ranks: list[int] = []
    paper_ranks: dict[str, list[int]] = {}
    removed = 0

    def around(slug: str, key: tuple[str, str]) -> None:
        listing = index.papers.get(slug)
        if listing is None:
            return
        rank = listing.rank(key)
        paper_ranks.setdefault(slug, []).append(rank)
        home_ranks.append(index.home.rank(key))
        for i in (rank - 1, rank, rank + 1):
            if 0 <= i < len(listing.entries):
                to_render.add(listing.entries[i].info_code)

    for code in codes:
        if code in index.position:
            slug, rank = index.position[code]
            around(slug, index.papers[slug].entries[rank].key)
        if code in previous:
            old_slug, old_published = previous[code]
            if _SAFE_SLUG.fullmatch(old_slug or "") and _DATE.match(old_published or "") and _SAFE_CODE.fullmatch(code):
                around(old_slug, (old_published, code))
                new = index.position.get(code)
                new_url = index.papers[new[0]].entries[new[1]].url if new else None
                old_url = article_url(old_slug, old_published, code)
                if old_url != new_url and remove_ours(out_dir / old_url):
                    removed += 1
    if to_render:
        placeholders = ",".join("?" * len(to_render))
        for row in _rows(conn, f" WHERE info_code IN ({placeholders})", sorted(to_render)):
            r.article(row)
    if home_ranks:
        r.listing(index.home, index.home.pages_from_rank(min(home_ranks)))
        r.feed(index.home)
        removed += _remove_page_past_end(out_dir, index.home)
    for slug, ranks in sorted(paper_ranks.items()):
        listing = index.papers[slug]
        r.listing(listing, listing.pages_from_rank(min(ranks)))
        r.feed(listing)
        removed += _remove_page_past_end(out_dir, listing)
    r.newspapers()
    r.static()
    writer.write(STATE_FILE, state_text(site_url))
    return {
        "articles": len(to_render),
        "skipped": index.skipped,
        "written": writer.written,
        "unchanged": writer.unchanged,
        "removed": removed,
        "seconds": round(time.perf_counter() - t0, 3),
    }


def write_legacy_redirects(out_dir: str | Path, legacy: Mapping[str, str], site_url: str = "/") -> int:
    """Write ``category/<legacy_slug>.html`` for each ``legacy_slug -> slug`` of ``legacy``: a
    small page that sends the reader (``<meta http-equiv="refresh">`` and a link) to
    ``category/<slug>.html``. A legacy slug equal to its slug is skipped. Returns the
    number of files written."""
    out_dir = _check_out_dir(out_dir)
    writer = Writer(out_dir)
    env = environment()
    base = site_url.rstrip("/") + "/"
    env.globals.update(base=base, site_title="finews 地方报纸存档")
    template = env.get_template("redirect.html")
    for old, new in sorted(legacy.items()):
        if not old or old == new:
            continue
        if not (_SAFE_SLUG.fullmatch(old) and _SAFE_SLUG.fullmatch(new or "")):
            raise SiteError(f"bad slug in legacy mapping: {old!r} -> {new!r}")
        html = template.render(target=base + f"category/{new}.html", title=new)
        writer.write(f"category/{old}.html", html.encode("utf-8"))
    return writer.written


def _remove_page_past_end(out_dir: Path, listing: Listing) -> int:
    """A listing that lost articles may have one numbered page fewer: remove it."""
    return int(remove_ours(out_dir / listing.path(listing.pages + 1)))


def state_text(site_url: str) -> bytes:
    """What :data:`STATE_FILE` holds: the mark of a site built here, and the ``site_url``
    its links were made with (so an update links as the build did)."""
    return f"finews site\nsite_url: {site_url}\n".encode()


def built_site_url(out_dir: str | Path) -> str | None:
    """The ``site_url`` the site in ``out_dir`` was built with (``None``: no site built
    here, or one built before the URL was recorded)."""
    try:
        lines = (Path(out_dir) / STATE_FILE).read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return next((line.split(": ", 1)[1] for line in lines if line.startswith("site_url: ")), None)


def is_site_dir(out_dir: str | Path) -> bool:
    """Whether ``out_dir`` holds a site built here."""
    return (Path(out_dir) / STATE_FILE).is_file()


_NUMBERED = re.compile(r"(\d+)\.html")


def _prune(out_dir: Path, index: SiteIndex) -> int:
    """Remove article pages and numbered listing pages that the site no longer has. Only
    files of our URL shapes are considered, and only those the site wrote are removed
    (:func:`remove_ours`); anything else in ``out_dir`` is left alone."""
    removed = 0
    wanted_pages = {index.home.page_prefix: index.home.pages}
    wanted_pages.update({p.page_prefix: p.pages for p in index.papers.values()})
    for prefix, pages in wanted_pages.items():
        folder = out_dir / prefix
        if folder.is_dir():
            for f in folder.iterdir():
                m = _NUMBERED.fullmatch(f.name)
                if m and not 1 <= int(m.group(1)) <= pages:
                    removed += remove_ours(f)
    for slug, listing in index.papers.items():
        folder = out_dir / slug
        if not folder.is_dir():
            continue
        wanted = {e.url for e in listing.entries}
        for dirpath, _dirs, files in os.walk(folder):
            rel_dir = os.path.relpath(dirpath, out_dir)
            if rel_dir.count(os.sep) != 3:
                continue
            for name in files:
                rel = f"{rel_dir.replace(os.sep, '/')}/{name}"
                if name.endswith(".html") and _SAFE_CODE.fullmatch(name[:-5]) and rel not in wanted:
                    removed += remove_ours(Path(dirpath) / name)
    return removed
