"""Unit tests of the Redis side of many machines, on fakeredis (the crawls themselves
run against a real redis-server in test_fleet.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import fakeredis

from finews_spider.distributed import (
    ITEMS,
    PROCESSING,
    ItemQueue,
    RedisArchiveView,
    decode_item,
    encode_item,
    workers_alive,
)
from finews_spider.run import judge


def test_item_round_trip_keeps_datetimes():
    fetched = datetime(2021, 12, 23, 1, 2, 3, tzinfo=UTC)
    fields = {"info_code": "NW1", "title": "标题", "raw_datetime": "2021-12-23 07:25:33", "fetched_at": fetched}
    assert decode_item(encode_item(fields)) == fields


def test_queue_acks_only_what_is_committed_and_recovers_the_rest():
    server = fakeredis.FakeRedis()
    queue = ItemQueue(server)
    for i in range(5):
        queue.push(f"item{i}".encode())
    taken = queue.take(3)
    assert taken == [b"item0", b"item1", b"item2"]  # oldest first
    assert queue.waiting() == 2 and queue.processing() == 3
    queue.ack(b"item1")
    # A writer killed now: the next one moves back what was not acknowledged, to be taken first.
    assert queue.recover() == 2
    assert queue.processing() == 0
    assert queue.take(10) == [b"item0", b"item2", b"item3", b"item4"]
    assert server.llen(ITEMS) == 0 and server.llen(PROCESSING) == 4


def test_archive_view_answers_like_the_archive():
    server = fakeredis.FakeRedis()
    view = RedisArchiveView(server)
    assert (
        view.record([("NW1", "标题", "2021-12-23T07:25:33+08:00"), ("NW2", "另一", "2021-12-24T08:00:00+08:00")]) == 2
    )
    assert view.archived_versions(["NW1", "NW3"]) == {"NW1": ("标题", "2021-12-23T07:25:33+08:00")}


def test_workers_alive_are_the_heartbeat_keys():
    server = fakeredis.FakeRedis()
    assert workers_alive(server) == []
    server.set("finews:worker:finews:run1:host-1", "busy", px=10_000)
    assert workers_alive(server) == ["finews:worker:finews:run1:host-1"]


def test_a_worker_is_judged_on_its_own_outcomes():
    # It listed 10 articles; 4 were fetched (and queued) by it, the rest by other workers.
    stats = {
        "finews/feeds_requested": 3,
        "finews/feeds_ok": 3,
        "finews/feeds_nonempty": 3,
        "finews/articles_listed": 10,
        "finews/articles_queued": 4,
    }
    assert judge(stats, "finished")[0] == "failed"
    assert judge(stats, "finished", shared_frontier=True) == ("ok", "")
    failed = {**stats, "finews/text_failed": 1}
    assert judge(failed, "finished", shared_frontier=True)[0] == "failed"
