"""Atom feeds (RFC 4287), as pure formatting: the archive's ``feed/<slug>.xml`` and
``feed/all.xml`` and the reading site's feeds are made by :func:`format_feed`.

Every string is escaped for XML (text and attributes), and characters XML 1.0 cannot
carry (control characters, lone surrogates, U+FFFE/U+FFFF) are dropped, so no title or
newspaper name from upstream can break a feed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from .jekyll import post_path

GENERATOR = "finews archive"  # the <generator> of every feed (and the mark of the site's files)
ID_PREFIX = "tag:finews.withounder.com,2021:"  # entry and feed ids: stable whatever the site's address
EPOCH = "1970-01-01T00:00:00+00:00"  # the <updated> of a feed without entries
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTR = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def xml_text(value: str) -> str:
    """``value`` as XML character data (``& < >`` escaped, non-XML characters dropped)."""
    return escape(_NOT_XML.sub("", value or ""))


def xml_attr(value: str) -> str:
    """``value`` as the inside of a double-quoted XML attribute."""
    return escape(_NOT_XML.sub("", value or ""), _ATTR)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One article of a feed. ``published`` is an RFC 3339 time (the archive's ISO
    ``published_at``); ``share_url`` becomes a ``related`` link, ``category`` (the slug) a
    category labelled with ``newspaper``, ``content_html`` the entry's content."""

    entry_id: str
    title: str
    url: str
    published: str
    newspaper: str
    share_url: str | None = None
    category: str | None = None
    content_html: str | None = None


def format_feed(
    *,
    feed_id: str,
    title: str,
    self_url: str,
    alternate_url: str,
    entries: Iterable[FeedEntry],
    updated: str | None = None,
) -> str:
    """The Atom document of ``entries`` (in the order given: newest first). ``updated``
    defaults to the first entry's date (:data:`EPOCH` when there is none)."""
    entries = list(entries)
    updated = updated or (entries[0].published if entries else EPOCH)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{xml_text(title)}</title>",
        f"<id>{xml_text(feed_id)}</id>",
        f'<link rel="self" type="application/atom+xml" href="{xml_attr(self_url)}"/>',
        f'<link rel="alternate" type="text/html" href="{xml_attr(alternate_url)}"/>',
        f"<updated>{xml_text(updated)}</updated>",
        f"<generator>{GENERATOR}</generator>",
        "<author><name>finews</name></author>",
    ]
    for e in entries:
        out += [
            "<entry>",
            f"<title>{xml_text(e.title)}</title>",
            f"<id>{xml_text(e.entry_id)}</id>",
            f'<link rel="alternate" type="text/html" href="{xml_attr(e.url)}"/>',
        ]
        if e.share_url:
            out.append(f'<link rel="related" type="text/html" title="分享链接" href="{xml_attr(e.share_url)}"/>')
        out += [
            f"<published>{xml_text(e.published)}</published>",
            f"<updated>{xml_text(e.published)}</updated>",
            f"<author><name>{xml_text(e.newspaper)}</name></author>",
        ]
        if e.category:
            out.append(f'<category term="{xml_attr(e.category)}" label="{xml_attr(e.newspaper)}"/>')
        if e.content_html is not None:
            out.append(f'<content type="html">{xml_text(e.content_html)}</content>')
        out.append("</entry>")
    out.append("</feed>")
    return "\n".join(out) + "\n"


ARCHIVE_TITLE = "finews 地方报纸存档"


def archive_feed(rows: Iterable[dict], slug: str | None, site_url: str) -> str:
    """The Jekyll archive's feed ``feed/<slug>.xml`` (``feed/all.xml`` for ``slug=None``)
    of ``rows`` (newest first: ``info_code``, ``title``, ``published_at``, ``newspaper``,
    ``slug``, ``share_url``): each entry links to its post on the site (``site_url`` +
    the Jekyll permalink) and to its share link; no bodies (the post has them)."""

    rows = list(rows)
    base = site_url.rstrip("/") + "/"
    title = f"{rows[0]['newspaper']}新闻 - {ARCHIVE_TITLE}" if slug and rows else ARCHIVE_TITLE
    entries = [
        FeedEntry(
            entry_id=ID_PREFIX + r["info_code"],
            title=r["title"],
            url=base + post_path(r["slug"], r["published_at"], r["info_code"]),
            published=r["published_at"],
            newspaper=r["newspaper"],
            share_url=r["share_url"],
            category=r["slug"],
        )
        for r in rows
    ]
    return format_feed(
        feed_id=ID_PREFIX + "feed/" + (slug or "all"),
        title=title,
        self_url=f"{base}feed/{slug or 'all'}.xml",
        alternate_url=f"{base}category/{slug}.html" if slug else base,
        entries=entries,
    )
