"""The upstream service's wire format (described in docs/upstream.md), as pure functions.

Nothing here fetches: it builds URLs and turns decoded JSON into plain dicts.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

INFO_CODE_RE = re.compile(r"[A-Za-z0-9]+")

# Both spellings of the listing: the current one first, then the older variant.
_FEED_LIST_KEYS = ("record", "nodeList")
_RECORD_KEYS = {
    "info_code": ("infoCode", "infocode"),
    "title": ("title",),
    "datetime": ("datetime", "showtime"),
    "newspaper": ("medianame", "from"),
}
_TEXT_KEYS = {
    "body_html": ("text", "content"),
    "title": ("title",),
    "datetime": ("datetime", "showtime"),
    "newspaper": ("medianame", "from"),
}


class UpstreamFormatError(ValueError):
    """The upstream answered with something that is not the documented format."""


def is_valid_info_code(code: Any) -> bool:
    """An infoCode is safe as a file name: ASCII letters and digits only."""
    return isinstance(code, str) and INFO_CODE_RE.fullmatch(code) is not None


def feed_url(base: str, market_type: int | str, count: int) -> str:
    return f"{base}?{urlencode({'marketType': market_type, 'count': count})}"


def text_url(base: str, info_code: str) -> str:
    return f"{base}?{urlencode({'id': info_code})}"


def share_url(base: str, info_code: str) -> str:
    return f"{base}?{urlencode({'infoCode': info_code})}"


def info_code_from_share_url(url: str) -> str:
    """The infoCode of a share-page URL, or ``ValueError`` saying what is wrong with it."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if not parts.path.endswith("NewsShare.html"):
        raise ValueError(f"not a share page (…/NewsShare.html?infoCode=…): {url!r}")
    codes = parse_qs(parts.query).get("infoCode") or []
    if len(codes) != 1:
        raise ValueError(f"share URL has no single infoCode: {url!r}")
    if not is_valid_info_code(codes[0]):
        raise ValueError(f"share URL infoCode is not letters and digits: {url!r}")
    return codes[0]


def _pick(data: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if data.get(key) not in (None, ""):
            return data[key]
    return None


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def parse_feed(data: Any) -> list[dict]:
    """The records of a decoded feed response, in either spelling, newest first as sent.

    Each record is a dict with ``info_code``, ``title``, ``datetime`` and ``newspaper``
    (any may be ``None``, all of them for a record that is not an object; validation
    happens later). Raises :class:`UpstreamFormatError`
    when the response has no list of records at all.
    """
    if not isinstance(data, dict):
        raise UpstreamFormatError(f"feed is a JSON {type(data).__name__}, not an object")
    records = _pick(data, _FEED_LIST_KEYS)
    if records is None and any(k in data for k in _FEED_LIST_KEYS):
        records = []
    if not isinstance(records, list):
        raise UpstreamFormatError("feed object has no 'record' (or 'nodeList') list")
    # A record that is not an object is kept as a record of nothing (no infoCode), so
    # the spider counts it as unreadable instead of it vanishing from the accounting.
    return [
        {field: _as_text(_pick(raw, keys)) if isinstance(raw, dict) else None for field, keys in _RECORD_KEYS.items()}
        for raw in records
    ]


def parse_text(data: Any) -> dict:
    """The article fields of a decoded text response: ``body_html`` and, when present,
    ``title``, ``datetime`` and ``newspaper``."""
    if not isinstance(data, dict):
        raise UpstreamFormatError(f"text is a JSON {type(data).__name__}, not an object")
    fields = {field: _as_text(_pick(data, keys)) for field, keys in _TEXT_KEYS.items()}
    if fields["body_html"] is None and not any(k in data for k in _TEXT_KEYS["body_html"]):
        raise UpstreamFormatError("text object has no 'text' (or 'content')")
    return fields
