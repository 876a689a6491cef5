"""The Python API: one documented function per command that works on the archive without
crawling, with the command's option names as parameters (the sqlite-utils way: the
command line is a thin layer over these).

======================  ==============================================================
``scrapy search``       :func:`search`
``scrapy export``       :func:`export`
``scrapy site``         :func:`build_site`
``scrapy import``       :func:`import_posts`
``scrapy rebuild``      :func:`rebuild`
``scrapy serve``        :func:`serve_command`
======================  ==============================================================

Each takes the archive's :class:`~finews_spider.config.FinewsConfig` first (``config_for``
in a crawl, ``FinewsConfig.from_settings(...)`` or ``project_config(data_dir=...)``
elsewhere). Errors are exceptions: ``ValueError`` for a parameter that cannot be used,
:class:`ArchiveMissing` / :class:`~finews_spider.exceptions.ArchiveDamaged` for an archive
that cannot be read, ``ArchiveUnusable`` / ``LockHeld`` for one that cannot be written.
Nothing here imports Scrapy.

Runs of the engine (``crawl``, ``reextract``, ``writer``) are in ``finews_spider.crawling``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sqlite3
import stat
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path

from .archive import Archive, ArchiveDatabase, open_read_only
from .archive.importer import import_posts as record_posts
from .config import FinewsConfig
from .exceptions import ArchiveDamaged, ArchiveUnusable
from .exporters import jekyll
from .exporters.rows import FORMATS, article_columns, export_rows, format_for, write_csv, write_jsonl
from .files import atomic_output, check_site_folder, output_kind
from .importing import BROKEN, Skip, import_article, reason_kind
from .registry import Registry
from .run import ARCHIVE_LOCK, crawls_row
from .search import article_filters, fts_query, search_archive
from .site import build_site as render_site
from .site import built_site_url, is_site_dir, update_site, write_legacy_redirects


class ArchiveMissing(FileNotFoundError):
    """There is no archive database where the config says (no crawl has run there)."""


# -- reading -----------------------------------------------------------------------------
def archive_paths(config: FinewsConfig) -> list[Path]:
    """What belongs to the archive of ``config`` and no command may write over: the data
    folder (the database and its WAL, posts, feeds, locks), the WARC folder and the
    captures replayed."""
    return [config.data_dir, config.warc_dir, *config.replay]


def open_archive(config: FinewsConfig) -> sqlite3.Connection:
    """A read-only connection to the archive of ``config`` (it never creates, migrates or
    writes): :class:`ArchiveMissing` when there is none, :class:`ArchiveDamaged` when the
    file is not a readable archive."""
    path = config.database_path
    try:
        conn = open_read_only(path)
    except FileNotFoundError:
        raise ArchiveMissing(f"no archive at {path}: run a crawl first") from None
    except sqlite3.DatabaseError as exc:
        raise ArchiveDamaged(f"{path} is not a readable finews archive: {exc}") from exc
    try:
        conn.execute("SELECT 1 FROM articles LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ArchiveDamaged(f"{path} is not a readable finews archive: {exc}") from exc
    return conn


@contextmanager
def reading(config: FinewsConfig) -> Iterator[sqlite3.Connection]:
    """``with reading(config) as conn:`` a read-only connection (:func:`open_archive`),
    closed at the end; any database error inside the block becomes
    :class:`ArchiveDamaged` naming the file (a file damaged beyond its first pages)."""
    conn = open_archive(config)
    try:
        yield conn
    except ArchiveDamaged:
        raise
    except sqlite3.DatabaseError as exc:
        raise ArchiveDamaged(f"{config.database_path} is not a readable finews archive: {exc}") from exc
    finally:
        conn.close()


def search(
    config: FinewsConfig,
    words: str = "",
    *,
    stock: str | None = None,
    newspaper: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = 20,
    mark: tuple[str, str] = ("", ""),
) -> list[dict]:
    """The archived articles that contain ``words`` (every word; a "quoted phrase" as
    one), newest first, with a plain-text ``snippet`` around the matches (wrapped in
    ``mark``); see :func:`finews_spider.search.search_archive` for the filters. ``limit``
    ``None``: every match. ``ValueError`` for no words (and no ``stock``) or a bad date."""
    with reading(config) as conn:
        return search_archive(
            conn, words, newspaper=newspaper, since=since, until=until, stock=stock, limit=limit, mark=mark
        )


def export(
    config: FinewsConfig,
    out: str | Path,
    *,
    format: str | None = None,
    newspaper: str | None = None,
    since: str | None = None,
    until: str | None = None,
    search: str | None = None,
    stock: str | None = None,
) -> int:
    """Write every column of the selected articles (all of them without a filter) and
    their mentions to ``out`` (``-``: stdout) as JSON Lines or CSV (``format``, else by
    ``out``'s extension), newest first, streamed through a temporary file renamed to
    ``out`` when complete. The filters are :func:`search`'s. Returns the number of rows."""
    out = str(out)
    fmt = format or format_for(out)
    if fmt not in FORMATS:
        raise ValueError(f"{out}: cannot tell the format from the name: end it in .jsonl or .csv, or give --format")
    if search is not None and fts_query(search) == '""':
        raise ValueError(f"--search: no words to search for in {search!r}")
    if stock is not None and not stock.strip():
        raise ValueError("--stock: empty code")
    filters = article_filters(search or "", newspaper=newspaper, since=since, until=until, stock=stock, require=False)
    protected = archive_paths(config)
    output_kind(out, protected)  # refused before anything is read
    with reading(config) as conn:
        return write_export(conn, out, fmt, filters, protected)


def write_export(conn: sqlite3.Connection, out: str, fmt: str, filters: list, protected: Iterable[Path] = ()) -> int:
    """Write the rows of the archive on ``conn`` that ``filters`` select
    (``search.article_filters``) to ``out`` in ``fmt`` (``jsonl`` or ``csv``), never over
    one of ``protected`` (see :func:`finews_spider.files.output_kind`); the count."""
    rows = export_rows(conn, filters)
    with atomic_output(out, protected) as f:
        if fmt == "csv":
            return write_csv(rows, f, article_columns(conn))
        return write_jsonl(rows, f)


def legacy_slugs(registry: Registry | None = None) -> dict[str, str]:
    """``legacy_slug -> slug`` of the registry's papers whose old site's slug is no current
    slug (an old slug that two papers shared and one of them keeps stays that paper's page)."""
    registry = registry or Registry.load()
    return {
        p.legacy_slug: p.slug
        for p in registry.papers
        if p.legacy_slug and p.legacy_slug != p.slug and p.legacy_slug not in registry.by_slug
    }


def build_site(
    config: FinewsConfig,
    out_dir: str | Path | None = None,
    *,
    site_url: str | None = None,
    changed_since: str | None = None,
) -> dict:
    """Build the reading site of the archive into ``out_dir`` (default
    ``FINEWS_SITE_DIR``), or bring it up to date: every page is rendered and only the
    files whose bytes changed are written (pages that no longer exist are removed).
    ``changed_since`` (an ISO time, UTC, as ``last_seen_at``) renders only what the
    articles seen since then touch. ``site_url`` prefixes every link (default: what the
    site was built with, else ``/``). Returns the figures (articles, written, unchanged,
    removed, redirects, seconds).

    It writes only what it owns: ``OutputRefused`` for ``/``, the home folder or the
    archive's own folders; ``ForeignFile`` (a ``SiteError``) naming the first file it would
    overwrite or remove that it did not write (nothing of it is touched)."""
    target = out_dir or config.site_dir
    if not target:
        raise ValueError("give the output directory (or set FINEWS_SITE_DIR)")
    target = Path(target)
    check_site_folder(target, archive_paths(config))
    site_url = site_url or built_site_url(target) or "/"
    with reading(config) as conn:
        if changed_since and is_site_dir(target):
            codes = [
                c for (c,) in conn.execute("SELECT info_code FROM articles WHERE last_seen_at >= ?", (changed_since,))
            ]
            stats = update_site(conn, target, codes, site_url)
        else:
            stats = render_site(conn, target, site_url)
        stats["redirects"] = write_legacy_redirects(target, legacy_slugs(), site_url)
    return stats


# -- writing -----------------------------------------------------------------------------
def rebuild(config: FinewsConfig) -> tuple[int, int]:
    """Write every post, category page and feed again from the database, offline, under
    the archive's lock. Returns (articles whose files were written, already identical)."""
    if not config.database_path.exists():
        raise ArchiveMissing(f"no archive at {config.database_path}: run a crawl first")
    # The same lock as `scrapy crawl finews`: nobody else rewrites every post meanwhile.
    archive = Archive(replace(config, exporters=frozenset({"jekyll", "sqlite"})), lock_name=ARCHIVE_LOCK)
    try:
        return archive.rebuild()
    finally:
        archive.close()


POST_SUFFIXES = (".md", ".markdown", ".html")
IMPORT_BATCH = 1000  # articles per database transaction (one syncfs each)
SERIAL_BELOW = 300  # fewer posts than this are read in this process (a pool costs more)


@dataclass
class ImportReport:
    """What an import did, counted."""

    files: int = 0
    statuses: Counter = field(default_factory=Counter)  # new / changed / unchanged
    not_articles: int = 0
    broken: Counter = field(default_factory=Counter)  # reason kind -> posts
    duplicates: int = 0
    kept_crawled: int = 0  # unchanged because a crawl archived a newer version
    other_files: int = 0
    seconds: float = 0.0
    status: str = "ok"
    reason: str | None = None
    write_error: Exception | None = None  # why the archive could not be written (status failed)

    @property
    def imported(self) -> int:
        return sum(self.statuses.values())

    @property
    def readable(self) -> int:
        """Posts read as what they are: articles (duplicates included) and not articles."""
        return self.imported + self.not_articles + self.duplicates

    def figures(self) -> dict:
        """The figures of its ``crawls`` row."""
        return {
            "articles_new": self.statuses["new"],
            "articles_changed": self.statuses["changed"],
            "articles_unchanged": self.statuses["unchanged"],
            "articles_skipped": self.not_articles + self.duplicates,
            "articles_dropped": sum(self.broken.values()),
        }

    def lines(self) -> list[str]:
        """The summary, as printed."""
        rate = f", {self.files / self.seconds:.0f} posts/s" if self.seconds > 0 else ""
        out = [
            f"import: {self.files} posts read: imported {self.imported} (new {self.statuses['new']}, "
            f"changed {self.statuses['changed']}, unchanged {self.statuses['unchanged']}), "
            f"not articles {self.not_articles}, broken {sum(self.broken.values())}, duplicates {self.duplicates}"
            + (f", kept as crawled {self.kept_crawled}" if self.kept_crawled else "")
            + (f", other files ignored {self.other_files}" if self.other_files else "")
            + f"; {self.seconds:.1f}s{rate}"
        ]
        if self.broken:
            out.append("broken by reason: " + "; ".join(f"{kind}: {n}" for kind, n in self.broken.most_common()))
        return out


def post_files(paths: Iterable[Path], report: ImportReport) -> Iterator[Path]:
    """The post files of ``paths``: a file as given; a folder's ``*.md``, ``*.markdown``
    and ``*.html`` files, in name order, subfolders included, hidden ones skipped (other
    files are counted in ``report.other_files``)."""
    for path in paths:
        if not path.is_dir():
            yield path
            continue
        for folder, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith("."):
                    continue
                if name.endswith(POST_SUFFIXES):
                    yield Path(folder) / name
                else:
                    report.other_files += 1


#: A post larger than this is no post of the old archive (theirs are 1–30 KB): broken.
MAX_POST_BYTES = 4 * 1024 * 1024


def _read_post(task: tuple[str, bool]) -> tuple[str, dict | Skip, bytes | None]:
    """Read and clean one post (in a worker process): its path, the article or the
    skip, and its bytes when ``task`` asks for them (a post to copy). Only a regular file
    of at most :data:`MAX_POST_BYTES` is read (a FIFO named ``*.md`` would hang the
    import while it holds the archive's lock)."""
    path, keep = task
    try:
        with open(path, "rb", opener=_open_without_blocking) as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                return path, Skip(BROKEN, "not a regular file"), None
            if info.st_size > MAX_POST_BYTES:
                return (
                    path,
                    Skip(BROKEN, f"larger than {MAX_POST_BYTES // 1024 // 1024} MiB: {info.st_size} bytes"),
                    None,
                )
            data = f.read(MAX_POST_BYTES + 1)
    except OSError as exc:
        return path, Skip(BROKEN, f"cannot be read: {exc.strerror or exc}"), None
    result = import_article(data, path)
    if isinstance(result, Skip):
        return path, result, None
    result["prepared"] = ArchiveDatabase.prepare([result])[0]  # the search tokens, computed here in parallel
    return path, result, data if keep else None


def _open_without_blocking(path: str, flags: int) -> int:
    """``open`` that never waits for a writer (a FIFO opens at once, and is then refused)."""
    return os.open(path, flags | os.O_NONBLOCK)


def _outside(folder: Path) -> Callable[[Path], bool]:
    """A test of whether a file lies outside ``folder`` once links are resolved: its
    folder resolved once (not every file: ``resolve`` costs a system call per path
    part), the file itself only when it is a symbolic link."""
    folder = folder.resolve()
    parents: dict[Path, bool] = {}

    def outside(path: Path) -> bool:
        if path.is_symlink():
            return not path.resolve().is_relative_to(folder)
        parent = path.parent
        if parent not in parents:
            parents[parent] = not parent.resolve().is_relative_to(folder)
        return parents[parent]

    return outside


def import_into(
    archive: Archive,
    files: list[Path],
    report: ImportReport,
    *,
    rewrite: bool = False,
    workers: int = 0,
    say: Callable[[str], object] = print,
) -> None:
    """Import ``files`` into the open ``archive``, counting in ``report`` and telling
    ``say`` (one line each) about every post skipped. ``workers`` processes read and
    clean the posts (0: one per core, at most 4; 1: this process)."""
    started = time.perf_counter()
    outside = _outside(archive.root / jekyll.POSTS_DIR)
    tasks = [(str(f), outside(f)) for f in files]
    report.files += len(tasks)
    workers = workers or min(os.cpu_count() or 1, 4)
    first_file: dict[str, str] = {}
    batch: list[dict] = []

    def flush() -> None:
        if batch:
            seen = datetime.now(UTC).replace(microsecond=0)
            for result in record_posts(archive, batch, seen, rewrite=rewrite):
                report.statuses[result["status"]] += 1
                report.kept_crawled += "kept" in result
            batch.clear()

    pool = ProcessPoolExecutor(workers) if workers > 1 and len(tasks) >= SERIAL_BELOW else None
    try:
        results = pool.map(_read_post, tasks, chunksize=64) if pool else map(_read_post, tasks)
        for path, result, data in results:
            if isinstance(result, Skip):
                if result.kind == BROKEN:
                    report.broken[reason_kind(result.reason)] += 1
                    say(f"broken: {path}: {result.reason}")
                else:
                    report.not_articles += 1
                    say(f"not an article: {path}: {result.reason}")
                continue
            code = result["info_code"]
            if code in first_file:
                report.duplicates += 1
                say(f"duplicate: {path}: {code} was already read from {first_file[code]}; skipped")
                continue
            first_file[code] = path
            batch.append(
                {
                    "prepared": result.pop("prepared"),
                    "article": result,
                    "post": (Path(path).name, data) if data is not None else None,
                }
            )
            if len(batch) >= IMPORT_BATCH:
                flush()
        flush()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        report.seconds += time.perf_counter() - started


def import_posts(
    config: FinewsConfig,
    paths: Iterable[str | Path],
    *,
    rewrite: bool = False,
    workers: int = 0,
    say: Callable[[str], object] = print,
) -> ImportReport:
    """Record the posts of an existing Jekyll archive (folders of posts, e.g. the old
    site's ``_posts/``, read with their subfolders, or single posts), fetching nothing,
    under the archive's lock. Regional articles become articles of the paper they name;
    digests and the site's init post are reported (``say``) and skipped; broken posts are
    reported with the file and the reason, skipped and counted. The files read are never
    changed; posts from outside ``<data>/_posts/`` are copied there unchanged, or written
    in today's format with ``rewrite``. The import is recorded as a ``crawls`` row
    (spider ``import``); the report's ``status`` is ``failed`` when no file could be read
    as a post, or when the archive could not be written (``write_error``: nothing of the
    batch being written was recorded), with its ``reason``. ``ArchiveUnusable`` /
    ``LockHeld`` when the archive cannot be opened; ``ValueError`` for a path that does
    not exist."""
    locations = [Path(p) for p in paths]
    missing = [str(p) for p in locations if not p.exists()]
    if missing:
        raise ValueError(f"no such file or folder: {', '.join(missing)}")
    started_at = datetime.now(UTC)
    report = ImportReport()
    files = list(post_files(locations, report))
    # The same lock as `scrapy crawl finews`: no crawl writes this archive meanwhile.
    archive = Archive(replace(config, exporters=frozenset({"jekyll", "sqlite"})), lock_name=ARCHIVE_LOCK)
    try:
        try:
            import_into(archive, files, report, rewrite=rewrite, workers=workers, say=say)
        except (OSError, ArchiveUnusable) as exc:  # a full disk, the folder removed: the batch was not recorded
            report.status, report.reason, report.write_error = "failed", f"archive not writable: {exc}", exc
        if report.status == "ok" and not report.readable:
            report.status = "failed"
            report.reason = "no post files found" if not files else "no file could be read as a post"
        archive.record_crawl(
            crawls_row("import", report.status, report.reason, report.figures(), started_at, datetime.now(UTC))
        )
    finally:
        archive.close()
    return report


# -- serving -------------------------------------------------------------------------------
PLUGIN_MODULE = "finews_spider.datasette_plugin"
#: The metadata ``scrapy serve`` passes to Datasette (it ships with the package); a data
#: folder's own ``metadata.yml`` replaces it.
DEFAULT_METADATA = Path(__file__).with_name("serve_metadata.yml")


def plugin_installed() -> bool:
    """True if Datasette will load the finews plugin (the package is installed)."""
    return any(ep.value == PLUGIN_MODULE for ep in entry_points(group="datasette"))


def datasette_args(
    db: Path, metadata: Path | None = None, host: str = "127.0.0.1", port: int = 8001, immutable: bool = False
) -> list[str]:
    """The ``datasette serve`` command line for an archive; ``immutable`` serves it with
    ``-i`` (see :func:`needs_immutable`)."""
    database = ["-i", str(db)] if immutable else [str(db)]
    args = [sys.executable, "-m", "datasette", "serve", *database, "-h", host, "-p", str(port)]
    args += ["--setting", "default_page_size", "50"]
    if metadata is not None and metadata.exists():
        args += ["--metadata", str(metadata)]
    return args


def needs_immutable(db: Path) -> bool:
    """Whether the archive must be opened in Datasette's immutable mode: SQLite needs to
    write next to a database even to read it (the ``-shm`` file of a WAL database, a
    lock), so a file or folder this process cannot write to, or a read-only file system
    (``access(2)`` says ``EROFS`` then, also to root), can only be served immutable."""
    folder = db.parent if str(db.parent) else Path(".")
    return not os.access(db, os.W_OK) or not os.access(folder, os.W_OK)


def port_in_use(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (bound as uvicorn binds it, with
    ``SO_REUSEADDR``), or ``None`` when it is free."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"address {host!r} cannot be resolved ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == 98:  # EADDRINUSE
                return f"port {port} on {host} is already in use (another scrapy serve?); choose another with --port"
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` resolves to is on this machine only (127.0.0.0/8, ::1)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def serve_command(
    config: FinewsConfig, *, host: str = "127.0.0.1", port: int = 8001, public: bool = False
) -> tuple[list[str], list[str]]:
    """The ``datasette serve`` command line that serves the archive read-only (immutable
    when it cannot be written to), and the notices to print first. ``ArchiveMissing``
    when there is no archive; ``RuntimeError`` when the port is taken or the plugin is not
    installed; ``ValueError`` for a ``host`` beyond this machine without ``public`` (the
    archive would be served to the network). The caller runs it (``scrapy serve`` becomes
    it: ``os.execv``)."""
    notices = []
    if not is_loopback(host):
        if not public:
            raise ValueError(
                f"--host {host} would serve the archive beyond this machine: add --public to mean it "
                "(or leave --host out for 127.0.0.1)"
            )
        notices.append(
            f"serving the archive to the network on {host}:{port} (--public): anyone who reaches it can read it"
        )
    db = config.database_path
    if not db.exists():
        raise ArchiveMissing(f"no archive at {db}: run a crawl first")
    busy = port_in_use(host, port)
    if busy:
        raise RuntimeError(busy)
    if not plugin_installed():
        raise RuntimeError("the finews Datasette plugin is not installed: pip install -e . (in the project folder)")
    metadata = config.data_dir / "metadata.yml"
    if not metadata.exists():
        metadata = DEFAULT_METADATA
    immutable = needs_immutable(db)
    if immutable:
        notices.append(f"{db} is not writable here: serving it immutable (datasette -i)")
    return datasette_args(db, metadata, host, port, immutable), notices
