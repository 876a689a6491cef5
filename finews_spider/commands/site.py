"""``scrapy site DIR``: build the reading site from the SQLite archive, or bring it up to date.

Without options it renders every page and writes only the files whose bytes changed (so
it is both the first build and the update after any change, moves included: pages that
no longer exist are removed). ``--changed-since TIME`` renders only what the articles
seen since TIME touch (see :func:`finews_spider.site.update_site`); faster on a large
archive, but it cannot see an article that moved to another date (a full build can). A
directory without a site built here always gets a full build.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from ..archive import open_read_only
from ..config import FinewsConfig
from ..registry import Registry
from ..run import EXIT_USAGE
from ..site import SiteError, build_site, is_site_dir, update_site, write_legacy_redirects
from .crawl import settings_refused


def open_archive(path: Path) -> sqlite3.Connection:
    """The archive at ``path``, opened read-only (the site never writes to it)."""
    try:
        conn = open_read_only(Path(path))
        conn.execute("SELECT 1 FROM articles LIMIT 1").fetchall()
    except FileNotFoundError:
        raise SiteError(f"no archive at {path}: run a crawl first") from None
    except sqlite3.Error as exc:
        raise SiteError(f"cannot read the archive {path}: {exc}") from exc
    return conn


def legacy_slugs(registry: Registry | None = None) -> dict[str, str]:
    """``legacy_slug -> slug`` of the registry's papers whose old site's slug is no current
    slug (an old slug that two papers shared and one of them keeps stays that paper's page)."""
    registry = registry or Registry.load()
    return {
        p.legacy_slug: p.slug
        for p in registry.papers
        if p.legacy_slug and p.legacy_slug != p.slug and p.legacy_slug not in registry.by_slug
    }


def run_site(db_path: Path, out_dir: Path, site_url: str = "/", changed_since: str | None = None) -> dict:
    """Build (or, with ``changed_since``, update) the site; returns the figures."""
    conn = open_archive(db_path)
    try:
        if changed_since and is_site_dir(out_dir):
            codes = [
                c for (c,) in conn.execute("SELECT info_code FROM articles WHERE last_seen_at >= ?", (changed_since,))
            ]
            stats = update_site(conn, out_dir, codes, site_url)
        else:
            stats = build_site(conn, out_dir, site_url)
        stats["redirects"] = write_legacy_redirects(out_dir, legacy_slugs(), site_url)
    finally:
        conn.close()
    return stats


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False  # no crawl: no engine, no startup log

    def syntax(self):
        return "[options] [DIR, default FINEWS_SITE_DIR]"

    def short_desc(self):
        return "Build or update the reading site (static HTML) from the SQLite archive"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--site-url", default="/", help="prefix of every link (default /)")
        parser.add_argument(
            "--changed-since",
            metavar="TIME",
            help="only the pages of articles seen since TIME (ISO, UTC, as last_seen_at)",
        )

    def run(self, args, opts):
        if len(args) > 1:
            raise UsageError("give one output directory")
        if settings_refused(self.settings):
            self.exitcode = EXIT_USAGE
            return
        config = FinewsConfig.from_settings(self.settings)
        out = args[0] if args else config.site_dir
        if not out:
            raise UsageError("give the output directory (or set FINEWS_SITE_DIR)")
        try:
            stats = run_site(config.database_path, Path(out), opts.site_url, opts.changed_since)
        except SiteError as exc:
            print(f"scrapy site: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        except OSError as exc:
            print(f"scrapy site: cannot write the site to {out}: {exc.strerror or exc}", file=sys.stderr)
            self.exitcode = 1
            return
        print(
            f"site {out}: {stats['articles']} articles, {stats['written']} files written, "
            f"{stats['unchanged']} unchanged, {stats['removed']} removed, {stats['redirects']} redirects, "
            f"{stats['seconds']:.1f}s"
        )
