"""The reading site rendered from the SQLite archive (see :mod:`.builder`)."""

from .builder import (
    PAGE_SIZE,
    SiteError,
    SiteIndex,
    article_url,
    build_site,
    built_site_url,
    is_site_dir,
    page_bounds,
    page_count,
    update_site,
    write_legacy_redirects,
)

__all__ = [
    "PAGE_SIZE",
    "SiteError",
    "SiteIndex",
    "article_url",
    "build_site",
    "is_site_dir",
    "page_bounds",
    "page_count",
    "built_site_url",
    "update_site",
    "write_legacy_redirects",
]
