"""The reading site as a sink of the archive (``FINEWS_SINKS``: ``site``): after each
committed batch, the pages its changed articles touch are rendered again into
``FINEWS_SITE_DIR`` (a full build the first time), with the links the site was built
with."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..archive.sinks import Sink
from .builder import build_site, built_site_url, is_site_dir, update_site

if TYPE_CHECKING:  # annotations only
    from ..archive import Archive

logger = logging.getLogger(__name__)

DEFAULT_SITE_URL = "/"


class SiteSink(Sink):
    """Keeps the reading site in ``out_dir`` up to date with the archive's database.
    A site that cannot be updated is logged as an error (which fails a crawl's verdict):
    the batch is recorded, only the site lags, and ``scrapy site`` brings it up to date."""

    name = "site"

    def __init__(self, archive: Archive, out_dir: Path):
        self.archive, self.out_dir = archive, out_dir

    @classmethod
    def from_archive(cls, archive: Archive) -> SiteSink | None:
        if archive.db is None or archive.config.site_dir is None:
            return None
        return cls(archive, archive.config.site_dir)

    def committed(self, articles: Sequence[Mapping], results: Sequence[Mapping]) -> None:
        self.update([a["info_code"] for a, r in zip(articles, results) if r["status"] != "unchanged"])

    def update(self, codes: list[str]) -> dict | None:
        """Render what ``codes`` touch (a full build when no site was built here yet)."""
        if not codes or self.archive.db is None:
            return None
        conn = self.archive.db.conn
        try:
            if not is_site_dir(self.out_dir):
                return build_site(conn, self.out_dir, DEFAULT_SITE_URL)
            return update_site(conn, self.out_dir, codes, built_site_url(self.out_dir) or DEFAULT_SITE_URL)
        except Exception as exc:  # the batch is recorded; the site is what lags (and fails the run)
            logger.error(
                "the reading site %s could not be updated (%s: %s); the archive is complete: "
                "`scrapy site` brings the site up to date",
                self.out_dir,
                type(exc).__name__,
                exc,
            )
            return None
