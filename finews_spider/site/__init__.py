"""The reading site rendered from the SQLite archive (see :mod:`.builder`)."""

from .builder import (
    PAGE_SIZE,
    SiteError,
    SiteIndex,
    article_url,
    build_site,
    is_site_dir,
    page_bounds,
    page_count,
    update_configured_site,
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
    "update_configured_site",
    "update_site",
    "write_legacy_redirects",
]
