"""The rules that decide a run's status (pure: ``judge``)."""

import pytest

from finews_spider.run import judge, run_figures

FEEDS_OK = {"finews/feeds_requested": 3, "finews/feeds_ok": 3, "finews/feeds_nonempty": 3}


def decide(stats, reason="finished", ratio=0.2):
    return judge(stats, reason, max_error_ratio=ratio)


def test_nothing_new_is_ok():
    assert decide({**FEEDS_OK, "finews/articles_listed": 30, "finews/articles_skipped": 30}) == ("ok", "")


def test_by_default_any_failed_article_fails_the_run():
    stats = {**FEEDS_OK, "finews/articles_listed": 100, "finews/articles_new": 99, "finews/text_failed": 1}
    assert judge(stats, "finished")[0] == "failed"
    assert judge({**stats, "finews/text_failed": 0, "finews/articles_dropped": 1}, "finished") == ("ok", "")


@pytest.mark.parametrize(
    "stats,reason,why",
    [
        ({**FEEDS_OK}, "shutdown", "run ended early: shutdown"),
        ({"finews/feeds_requested": 3, "finews/feeds_failed": 3}, "finished", "no feed could be read"),
        ({"finews/feeds_requested": 3, "finews/feeds_ok": 3}, "finished", "every feed was empty"),
        (
            {
                **FEEDS_OK,
                "finews/articles_listed": 10,
                "finews/articles_new": 7,
                "finews/text_failed": 2,
                "finews/text_invalid": 1,
            },
            "finished",
            "3 of 10 articles failed",
        ),
        ({**FEEDS_OK, "finews/articles_failed": 2}, "finished", "2 article(s) could not be recorded"),
        (
            {**FEEDS_OK, "finews/unexpected_errors": 1, "finews/first_unexpected_error": "boom"},
            "finished",
            "1 unexpected error(s), the first: boom",
        ),
        # One feed of three unread: its articles are unknown, whatever the others gave.
        (
            {
                **FEEDS_OK,
                "finews/feeds_ok": 2,
                "finews/feeds_failed": 1,
                "finews/articles_listed": 5,
                "finews/articles_new": 5,
            },
            "finished",
            "1 of 3 feed(s) could not be read",
        ),
        ({**FEEDS_OK, "finews/feeds_ok": 2, "finews/feeds_invalid": 1}, "finished", "1 of 3 feed(s) could not be read"),
        # A feed record that is not an article (no infoCode, not an object) is a failed article.
        (
            {**FEEDS_OK, "finews/articles_listed": 5, "finews/articles_new": 5, "finews/feed_records_invalid": 2},
            "finished",
            "2 of 7 articles failed",
        ),
        # Accounting: an article listed and not skipped must end somewhere.
        (
            {**FEEDS_OK, "finews/articles_listed": 10, "finews/articles_skipped": 5, "finews/articles_new": 4},
            "finished",
            "1 of 5 article(s) ended without an outcome",
        ),
    ],
)
def test_failed_runs(stats, reason, why):
    status, message = decide(stats, reason)
    assert status == "failed" and why in message


def test_error_ratio_is_over_articles_actually_attempted():
    # 2 failures among 10 fetched (90 skipped as archived) is 20%: not over 0.2.
    stats = {
        **FEEDS_OK,
        "finews/articles_listed": 100,
        "finews/articles_skipped": 90,
        "finews/text_failed": 2,
        "finews/articles_new": 8,
    }
    assert decide(stats)[0] == "ok"
    assert decide({**stats, "finews/text_failed": 3, "finews/articles_new": 7})[0] == "failed"


def test_share_urls_do_not_need_feeds():
    assert decide({"finews/articles_requested": 2, "finews/articles_new": 2}) == ("ok", "")
    assert (
        decide({"finews/articles_requested": 1, "finews/articles_new": 1, "finews/share_url_invalid": 1})[0] == "failed"
    )


def test_run_figures():
    figures = run_figures({"finews/articles_new": 3, "downloader/request_count": 7, "retry/count": 1})
    assert figures == {
        "articles_new": 3,
        "articles_changed": 0,
        "articles_unchanged": 0,
        "articles_skipped": 0,
        "articles_dropped": 0,
        "requests": 7,
        "retries": 1,
        "errors": 0,
    }


def test_summary_line_reads_back():
    from finews_spider.run import parse_summary, summary_line

    figures = run_figures({"finews/articles_new": 3, "finews/articles_skipped": 30, "downloader/request_count": 6})
    line = summary_line("shanxiwanbao", "ok", figures, 1.5)
    assert line == (
        "run summary: spider=shanxiwanbao status=ok new=3 changed=0 unchanged=0 skipped=30 dropped=0 "
        "requests=6 retries=0 errors=0 duration=1.5s"
    )
    assert parse_summary("2026-11-28 [x] INFO: " + line) == figures
    assert parse_summary("something else") is None
