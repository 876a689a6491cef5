"""The rules that decide a run's status (pure: ``judge``)."""

import pytest

from finews_spider.extensions.summary import judge, run_figures

FEEDS_OK = {"finews/feeds_requested": 3, "finews/feeds_ok": 3, "finews/feeds_nonempty": 3}


def decide(stats, reason="finished", share_mode=False, ratio=0.2):
    return judge(stats, reason, share_mode=share_mode, max_error_ratio=ratio)


def test_nothing_new_is_ok():
    assert decide({**FEEDS_OK, "finews/articles_listed": 30, "finews/articles_skipped": 30}) == ("ok", "")


@pytest.mark.parametrize("stats,reason,why", [
    ({**FEEDS_OK}, "shutdown", "run ended early: shutdown"),
    ({"finews/feeds_requested": 3, "finews/feeds_failed": 3}, "finished", "no feed could be read"),
    ({"finews/feeds_requested": 3, "finews/feeds_ok": 3}, "finished", "every feed was empty"),
    ({**FEEDS_OK, "finews/articles_listed": 10, "finews/text_failed": 2, "finews/text_invalid": 1}, "finished",
     "3 of 10 articles failed"),
    ({**FEEDS_OK, "finews/db_batches_failed": 1}, "finished", "1 database batch(es) could not be written"),
])
def test_failed_runs(stats, reason, why):
    status, message = decide(stats, reason)
    assert status == "failed" and why in message


def test_error_ratio_is_over_articles_actually_attempted():
    # 2 failures among 10 fetched (90 skipped as archived) is 20%: not over 0.2.
    stats = {**FEEDS_OK, "finews/articles_listed": 100, "finews/articles_skipped": 90, "finews/text_failed": 2}
    assert decide(stats)[0] == "ok"
    assert decide({**stats, "finews/text_failed": 3})[0] == "failed"


def test_share_mode_does_not_need_feeds():
    assert decide({"finews/articles_requested": 2}, share_mode=True) == ("ok", "")
    assert decide({"finews/articles_requested": 1, "finews/share_url_invalid": 1}, share_mode=True)[0] == "failed"


def test_run_figures():
    figures = run_figures({"finews/articles_new": 3, "downloader/request_count": 7, "retry/count": 1})
    assert figures == {"articles_new": 3, "articles_changed": 0, "articles_unchanged": 0, "articles_skipped": 0,
                       "articles_dropped": 0, "requests": 7, "retries": 1, "errors": 0}


def test_summary_line_reads_back():
    from finews_spider.extensions.summary import parse_summary, summary_line

    figures = run_figures({"finews/articles_new": 3, "finews/articles_skipped": 30, "downloader/request_count": 6})
    line = summary_line("shanxiwanbao", "ok", figures, 1.5)
    assert line == ("run summary: spider=shanxiwanbao status=ok new=3 changed=0 unchanged=0 skipped=30 dropped=0 "
                    "requests=6 retries=0 errors=0 duration=1.5s")
    assert parse_summary("2026-11-28 [x] INFO: " + line) == figures
    assert parse_summary("something else") is None
