"""``scrapy import PATH…``: record the posts of an existing Jekyll archive, fetching nothing.

PATH is a folder of posts (the old site's ``_posts/``, ``old_post/``; read with its
subfolders, hidden files skipped) or a single post. Each post is read by
``importing.import_article`` (the old shapes, today's cleaning) and recorded through
:func:`archive.importer.import_posts`: regional articles become articles of the paper they name;
digests and the site's init post are reported and skipped (not articles); broken posts
are reported with the file and the reason, skipped and counted. The files read are
never changed; posts from outside ``<data>/_posts/`` are copied there unchanged, or
written in today's format with ``--rewrite``.

Exit status: 0 when what could be imported was (including when everything was already
archived), 1 when no file could be read as a post or the archive cannot be used, 2 on a
usage error, 75 when another run holds the archive's lock (``finews``, as ``crawl
finews``). The summary is printed on stdout and written to the ``crawls`` table
(spider ``import``); the skipped posts are listed on stderr.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from ..archive import Archive, ArchiveDatabase
from ..archive.importer import import_posts
from ..config import FinewsConfig
from ..exceptions import ArchiveUnusable, LockHeld
from ..exporters import jekyll
from ..importing import BROKEN, Skip, import_article, reason_kind
from ..run import ARCHIVE_LOCK, EXIT_FAILED, EXIT_LOCKED, EXIT_USAGE, crawls_row
from .crawl import settings_refused

POST_SUFFIXES = (".md", ".markdown", ".html")
BATCH = 1000  # articles per database transaction (one syncfs each)
SERIAL_BELOW = 300  # fewer posts than this are read in this process (a pool costs more)


@dataclass
class ImportReport:
    """What an import did, counted."""

    files: int = 0
    statuses: Counter = field(default_factory=Counter)  # new / changed / unchanged
    not_articles: int = 0
    broken: Counter = field(default_factory=Counter)  # reason kind -> posts
    duplicates: int = 0
    other_files: int = 0
    seconds: float = 0.0

    @property
    def imported(self) -> int:
        return sum(self.statuses.values())

    @property
    def readable(self) -> int:
        """Posts read as what they are: articles (duplicates included) and not articles."""
        return self.imported + self.not_articles + self.duplicates

    def lines(self) -> list[str]:
        """The summary, as printed."""
        rate = f", {self.files / self.seconds:.0f} posts/s" if self.seconds > 0 else ""
        out = [
            f"import: {self.files} posts read: imported {self.imported} (new {self.statuses['new']}, "
            f"changed {self.statuses['changed']}, unchanged {self.statuses['unchanged']}), "
            f"not articles {self.not_articles}, broken {sum(self.broken.values())}, duplicates {self.duplicates}"
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


def _read(task: tuple[str, bool]) -> tuple[str, dict | Skip, bytes | None]:
    """Read and clean one post (in a worker process): its path, the article or the
    skip, and its bytes when ``task`` asks for them (a post to copy)."""
    path, keep = task
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return path, Skip(BROKEN, f"cannot be read: {exc.strerror or exc}"), None
    result = import_article(data, path)
    if isinstance(result, Skip):
        return path, result, None
    result["prepared"] = ArchiveDatabase.prepare([result])[0]  # the search tokens, computed here in parallel
    return path, result, data if keep else None


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


def run_import(
    archive: Archive, files: list[Path], report: ImportReport, *, rewrite: bool = False, workers: int = 0, say=print
) -> None:
    """Import ``files`` into ``archive``, counting in ``report`` and telling ``say`` (one
    line each) about every post skipped. ``workers`` processes read and clean the posts
    (0: one per core; 1: this process)."""
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
            for result in import_posts(archive, batch, seen, rewrite=rewrite):
                report.statuses[result["status"]] += 1
            batch.clear()

    pool = ProcessPoolExecutor(workers) if workers > 1 and len(tasks) >= SERIAL_BELOW else None
    try:
        results = pool.map(_read, tasks, chunksize=64) if pool else map(_read, tasks)
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
            if len(batch) >= BATCH:
                flush()
        flush()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        report.seconds += time.perf_counter() - started


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False  # nothing is fetched: no engine

    def syntax(self):
        return "[options] PATH [PATH …]"

    def short_desc(self):
        return "Record the posts of an existing Jekyll archive (folders or files) in the archive, fetching nothing"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument(
            "--rewrite",
            action="store_true",
            help="write the posts found outside the data folder in today's format instead of copying them unchanged",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            metavar="N",
            help="processes reading the posts (default: one per core, at most 4; 1: none)",
        )

    def run(self, args, opts):
        if not args:
            raise UsageError("give the posts to import: folders (e.g. old-site/_posts) or files")
        if opts.workers < 0:
            raise UsageError("--workers takes 0 (one per core) or more")
        if settings_refused(self.settings):
            self.exitcode = EXIT_USAGE
            return
        paths = [Path(a) for a in args]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            print(f"scrapy import: no such file or folder: {', '.join(missing)}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        config = FinewsConfig.from_settings(self.settings)
        self.exitcode = import_paths(config, paths, rewrite=opts.rewrite, workers=opts.workers)


def import_paths(config: FinewsConfig, paths: list[Path], *, rewrite: bool = False, workers: int = 0) -> int:
    """The whole command once its arguments are checked: the exit status."""
    started_at = datetime.now(UTC)
    report = ImportReport()
    files = list(post_files(paths, report))
    try:
        # The same lock as `scrapy crawl finews`: no crawl writes this archive meanwhile.
        archive = Archive(replace(config, exporters=frozenset({"jekyll", "sqlite"})), lock_name=ARCHIVE_LOCK)
    except (ArchiveUnusable, LockHeld) as exc:
        print(f"scrapy import: {exc}", file=sys.stderr)
        return EXIT_LOCKED if isinstance(exc, LockHeld) else EXIT_FAILED
    try:
        try:
            run_import(
                archive, files, report, rewrite=rewrite, workers=workers, say=lambda line: print(line, file=sys.stderr)
            )
        except (OSError, ArchiveUnusable) as exc:
            print(
                f"scrapy import: the archive could not be written ({exc}); nothing of the batch being "
                f"written was recorded",
                file=sys.stderr,
            )
            _record(archive, started_at, report, "failed", f"archive not writable: {exc}")
            return EXIT_FAILED
        for line in report.lines():
            print(line)
        if not report.readable:
            why = "no post files found" if not files else "no file could be read as a post"
            print(f"scrapy import: nothing imported: {why} in {', '.join(map(str, paths))}", file=sys.stderr)
            _record(archive, started_at, report, "failed", why)
            return EXIT_FAILED
        _record(archive, started_at, report, "ok", None)
        return 0
    finally:
        archive.close()


def _record(archive: Archive, started_at: datetime, report: ImportReport, status: str, reason: str | None) -> None:
    """The ``crawls`` row of this import (spider ``import``)."""
    figures = {
        "articles_new": report.statuses["new"],
        "articles_changed": report.statuses["changed"],
        "articles_unchanged": report.statuses["unchanged"],
        "articles_skipped": report.not_articles + report.duplicates,
        "articles_dropped": sum(report.broken.values()),
    }
    archive.record_crawl(crawls_row("import", status, reason, figures, started_at, datetime.now(UTC)))
