"""The feed cache: one feed read serves every run on this data folder for a while
(``FINEWS_FEED_TTL``), so per-paper spiders started together send the feed requests once.

``<data>/.feeds/`` holds one small JSON file per feed URL (``url``, ``fetched_at``,
``body``), written atomically; the folder is hidden, so Jekyll does not publish it. A
file that cannot be read is simply no cache (the feed is fetched)."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from ..files import remove_stale_temporaries, write_atomic

logger = logging.getLogger(__name__)

FEED_CACHE_DIR = ".feeds"


class FeedCache:
    """The feed cache of the data folder ``root``."""

    def __init__(self, root: Path):
        self.folder = Path(root) / FEED_CACHE_DIR
        for stale in remove_stale_temporaries([self.folder]):
            logger.warning("removed a temporary file left by a killed run: %s", stale)

    def path(self, url: str) -> Path:
        return self.folder / f"{hashlib.sha256(url.encode('utf-8')).hexdigest()[:24]}.json"

    def cached(self, url: str, max_age: float, now: datetime | None = None) -> tuple[bytes, datetime] | None:
        """The body of feed ``url`` as a run on this data folder fetched it at most
        ``max_age`` seconds ago, and when; ``None`` when there is none that fresh (or the
        cached file cannot be read: then the feed is simply fetched)."""
        try:
            entry = json.loads(self.path(url).read_bytes())
            fetched = datetime.fromisoformat(entry["fetched_at"])
            if entry["url"] != url or fetched.tzinfo is None:
                return None
            body = entry["body"].encode("utf-8")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        age = ((now or datetime.now(UTC)) - fetched).total_seconds()
        return (body, fetched) if 0 <= age <= max_age else None

    def store(self, url: str, body: bytes, fetched_at: datetime) -> None:
        """Keep a good feed response (a JSON object) for the other runs (written atomically)."""
        entry = {"url": url, "fetched_at": fetched_at.isoformat(), "body": body.decode("utf-8")}
        write_atomic(self.path(url), json.dumps(entry, ensure_ascii=False), fsync=False)
