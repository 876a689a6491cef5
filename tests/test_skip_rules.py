"""When an article listed in the feed is fetched again (pure: ``needs_fetch``)."""

from datetime import UTC, datetime

import pytest

from finews_spider.middlewares.incremental import needs_fetch

ARCHIVED = {"title": "中国人寿山西省分公司：走前列做表率", "published_at": "2021-12-23T07:25:33+08:00"}
LISTED = {"info_code": "NW1", "title": "中国人寿山西省分公司：走前列做表率", "datetime": "2021-12-23 07:25:33"}
NOW = datetime(2021, 12, 23, 12, 0, tzinfo=UTC)  # 12:25 after publication


def decide(record=LISTED, archived=ARCHIVED, recheck_hours=0):
    return needs_fetch(record, archived, recheck_hours=recheck_hours, now=NOW)


def test_archived_as_listed_is_skipped():
    assert decide() is None
    # The same listing in another spelling of the same date and a title with stray spaces.
    assert (
        decide({**LISTED, "datetime": "2021-12-23T07:25:33+08:00", "title": " 中国人寿山西省分公司：走前列做表率\n"})
        is None
    )


@pytest.mark.parametrize(
    "kwargs,reason",
    [
        ({"archived": None}, "new"),
        ({"record": {**LISTED, "title": "更正：中国人寿山西省分公司"}}, "title changed"),
        ({"record": {**LISTED, "datetime": "2021-12-23 08:00:00"}}, "date changed"),
        ({"record": {**LISTED, "datetime": "昨天"}}, "date changed"),
        ({"recheck_hours": 24}, "recheck"),
    ],
)
def test_reasons_to_fetch_again(kwargs, reason):
    assert decide(**kwargs) == reason


def test_recheck_window_is_measured_from_publication():
    assert decide(recheck_hours=12) is None  # published 12 h 34 min before NOW
    assert decide(recheck_hours=13) == "recheck"
