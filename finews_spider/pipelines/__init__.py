"""Item pipelines, in the order ``settings.ITEM_PIPELINES`` runs them:

validate (100) -> clean (200) -> jekyll export (400) -> sqlite export (500).

Posts are written before the database row on purpose: the database is what later runs
consult to skip archived articles, so a run killed between the two re-fetches the
article next time instead of leaving a row without its post.
"""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

logger = logging.getLogger(__name__)


def drop(stats, item, reason: str, message: str) -> DropItem:
    """Count a dropped article under ``finews/dropped/<reason>`` and return the
    ``DropItem`` to raise; Scrapy logs its message with the item."""
    code = ItemAdapter(item).get("info_code")
    stats.inc_value("finews/articles_dropped")
    stats.inc_value(f"finews/dropped/{reason}")
    return DropItem(f"article {code!r} dropped ({reason}): {message}")
