"""Every ``FINEWS_*`` setting is checked before the engine starts (``finews_spider/config.py``):
a table of bad values, each refused with one line naming the setting, the value and what
it accepts; good values parsed; and real ``scrapy crawl`` runs that exit 2 with that line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from finews_spider import settings as project_settings
from finews_spider.config import SETTING_NAMES, FinewsConfig, config_for, parse_bool, scrapy_defaults
from finews_spider.exceptions import SettingsError
from tests.conftest import ROOT, scrapy


def project(**overrides) -> Settings:
    """The project's settings with command-line overrides (strings, as ``-s`` gives them)."""
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


# (setting, bad value, what the one line must say)
BAD = [
    ("FINEWS_MARKET_TYPES", "", "is empty"),
    ("FINEWS_MARKET_TYPES", " , ", "is empty"),
    ("FINEWS_MARKET_TYPES", "37,,38", "has ''"),
    ("FINEWS_MARKET_TYPES", "37;38", "has '37;38'"),
    ("FINEWS_MARKET_TYPES", "37,abc", "has 'abc'"),
    ("FINEWS_MARKET_TYPES", "37,-38", "has '-38'"),
    ("FINEWS_MARKET_TYPES", "0", "has '0'"),
    ("FINEWS_MARKET_TYPES", "37,37", "lists 37 twice"),
    ("FINEWS_MARKET_TYPES", "37.5", "has '37.5'"),
    ("FINEWS_SINKS", "posts", "accepts a mapping of sink names to class paths"),
    ("FINEWS_SINKS", '{"posts": "not a path"}', "accepts a mapping of sink names to class paths"),
    ("FINEWS_SINKS", '["posts"]', "accepts a mapping of sink names to class paths"),
    ("FINEWS_FEED_COUNT", "-5", "whole number from 1 to 100000"),
    ("FINEWS_FEED_COUNT", "0", "whole number from 1 to 100000"),
    ("FINEWS_FEED_COUNT", "abc", "whole number from 1 to 100000"),
    ("FINEWS_FEED_COUNT", "", "whole number from 1 to 100000"),
    ("FINEWS_FEED_COUNT", "1e3", "whole number from 1 to 100000"),
    ("FINEWS_FEED_COUNT", "100001", "whole number from 1 to 100000"),
    ("FINEWS_FEED_COUNT", "2.5", "whole number"),
    ("FINEWS_FEED_TTL", "-1", "number from 0 to 86400"),
    ("FINEWS_FEED_TTL", "a minute", "number from 0 to 86400"),
    ("FINEWS_FEED_TTL", "86401", "number from 0 to 86400"),
    ("FINEWS_SQLITE_BATCH_SIZE", "x", "whole number from 1 to 100000"),
    ("FINEWS_SQLITE_BATCH_SIZE", "0", "whole number from 1 to 100000"),
    ("FINEWS_SQLITE_BATCH_SECONDS", "0", "number above 0 to 3600"),
    ("FINEWS_SQLITE_BATCH_SECONDS", "soon", "number above 0"),
    ("FINEWS_SQLITE_BATCH_SECONDS", "inf", "number above 0"),
    ("FINEWS_MAX_ERROR_RATIO", "abc", "number from 0 to 1"),
    ("FINEWS_MAX_ERROR_RATIO", "1.5", "number from 0 to 1"),
    ("FINEWS_MAX_ERROR_RATIO", "-0.1", "number from 0 to 1"),
    ("FINEWS_MAX_ERROR_RATIO", "nan", "number from 0 to 1"),
    ("FINEWS_MAX_ERROR_RATIO", "20%", "number from 0 to 1"),
    ("FINEWS_RECHECK_HOURS", "-1", "number from 0 to 878400"),
    ("FINEWS_RECHECK_HOURS", "a day", "number from 0"),
    ("FINEWS_RETRY_BACKOFF_BASE", "-1", "number from 0 to 3600"),
    ("FINEWS_RETRY_BACKOFF_MAX", "x", "number from 0 to 3600"),
    ("FINEWS_RETRY_BACKOFF_MAX", "0.5", "is below FINEWS_RETRY_BACKOFF_BASE=1.0"),
    ("FINEWS_WARC_MAX_BYTES", "10", "whole number from 1024"),
    ("FINEWS_WARC_MAX_BYTES", "256M", "whole number from 1024"),
    ("FINEWS_REFRESH", "banana", "boolean (1/0, true/false, yes/no, on/off)"),
    ("FINEWS_REFRESH", "", "boolean"),
    ("FINEWS_REFRESH", "2", "boolean"),
    ("FINEWS_LOCK", "maybe", "boolean"),
    ("FINEWS_WARC_CAPTURE", "enabled", "boolean"),
    ("FINEWS_FEED_URL", "", "http:// or https:// URL with a host"),
    ("FINEWS_FEED_URL", "ftp://example.org/feed", "http:// or https:// URL with a host"),
    ("FINEWS_FEED_URL", "http://", "URL with a host"),
    ("FINEWS_FEED_URL", "example.org/webapi", "URL with a host"),
    ("FINEWS_FEED_URL", " http://example.org/webapi", "URL with a host"),
    ("FINEWS_FEED_URL", "http://example.org:port/webapi", "URL with a host"),
    ("FINEWS_TEXT_URL", "javascript:alert(1)", "http:// or https://"),
    ("FINEWS_TEXT_URL", "http://exa mple.org/x", "URL with a host"),
    ("FINEWS_SHARE_URL", "/html_News/NewsShare.html", "URL with a host"),
    ("FINEWS_SITE_URL", "", "http(s)://host or //host"),
    ("FINEWS_SITE_URL", "//finews.withounder.com/", "without a trailing slash"),
    ("FINEWS_SITE_URL", "finews.withounder.com", "//host"),
    ("FINEWS_SITE_URL", "ftp://finews.withounder.com", "//host"),
    ("FINEWS_EXPORTERS", "", "is empty; accepts jekyll and/or sqlite"),
    ("FINEWS_EXPORTERS", "nope", "unknown exporter 'nope'"),
    ("FINEWS_EXPORTERS", "jekyl", "did you mean jekyll?"),
    ("FINEWS_EXPORTERS", "jekyll,csv", "unknown exporter 'csv'"),
    ("FINEWS_DATA_DIR", "", "folder path"),
    ("FINEWS_DATA_DIR", "  ", "folder path"),
    ("FINEWS_DATA_DIR", " data", "folder path"),
    ("FINEWS_DB_NAME", "", "file name"),
    ("FINEWS_DB_NAME", "../finews.db", "file name"),
    ("FINEWS_DB_NAME", "sub/finews.db", "no folder"),
    ("FINEWS_DB_NAME", "..", "file name"),
    ("FINEWS_LOCK_NAME", "../x", "file name"),
    ("FINEWS_LOCK_NAME", "a b", "file name"),
    ("FINEWS_WARC_DIR", "  ", "folder path"),
    ("FINEWS_SITE_DIR", " site ", "folder path"),
    ("FINEWS_REPLAY", "/nonexistent/upstream.warc.gz", "names no existing WARC file or folder"),
    ("FINEWS_REPLAY", "data/sample/upstream.warc.gz, /nonexistent", "names no existing WARC file or folder"),
    ("FINEWS_RUN_REPORT", "  ", "folder path"),
    ("FINEWS_RECORD_CRAWL", "banana", "accepts a boolean"),
    ("FINEWS_REDIS_URL", "localhost:6379", "accepts a redis://"),
    ("FINEWS_REDIS_URL", "http://localhost:6379", "accepts a redis://"),
    ("FINEWS_REDIS_URL", "redis://", "accepts a redis://"),
    ("FINEWS_REDIS_URL", "redis://host:port", "accepts a redis://"),
    ("FINEWS_FLEET_CONCURRENCY_PER_HOST", "0", "whole number from 1 to 1000"),
    ("FINEWS_FLEET_CONCURRENCY_PER_HOST", "2.5", "whole number from 1 to 1000"),
    ("FINEWS_FLEET_DELAY", "-1", "accepts a number from 0"),
    ("FINEWS_FLEET_WORKER", "maybe", "accepts a boolean"),
]


@pytest.mark.parametrize("name, value, says", BAD, ids=[f"{n}={v!r}" for n, v, _ in BAD])
def test_a_bad_value_is_refused_with_one_line(name, value, says):
    with pytest.raises(SettingsError) as caught:
        FinewsConfig.from_settings(project(**{name: value}))
    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith(f"{name}={value!r}: ") or line.startswith("FINEWS_RETRY_BACKOFF_MAX="), line
    assert says in line, line


def test_every_setting_is_in_the_bad_value_table():
    assert {name for name, _, _ in BAD} == SETTING_NAMES


@pytest.mark.parametrize(
    "name, expected",
    [
        ("FINEWS_FEED_CONT", "did you mean FINEWS_FEED_COUNT?"),
        ("FINEWS_MARKET_TYPE", "did you mean FINEWS_MARKET_TYPES?"),
        ("FINEWS_EXPORTER", "did you mean FINEWS_EXPORTERS?"),
        ("FINEWS_MAX_ERRORS_RATIO", "did you mean FINEWS_MAX_ERROR_RATIO?"),
        ("finews_refresh", "did you mean FINEWS_REFRESH?"),
        ("FINEWS_WHATEVER_ELSE_ENTIRELY", "see docs/reference/settings.md"),
    ],
)
def test_a_misspelt_setting_names_the_closest_known_one(name, expected):
    with pytest.raises(SettingsError) as caught:
        FinewsConfig.from_settings(project(**{name: "1"}))
    assert str(caught.value) == f"{name} is not a setting of this project; {expected}"


def test_the_defaults_parse_to_the_documented_values():
    config = FinewsConfig.from_settings(project())
    assert config.market_types == (37, 38, 39)
    assert config.feed_count == 100
    assert config.exporters == frozenset({"jekyll", "sqlite"})
    assert config.database_path == Path("data") / "finews.db"
    assert config.warc_dir == Path("data") / "warc"
    assert (config.refresh, config.lock, config.warc_capture) == (False, True, True)
    assert (config.recheck_hours, config.max_error_ratio) == (0.0, 0.0)
    assert (config.lock_name, config.replay, config.warc_dir_setting) == (None, (), None)
    assert config.warc_max_bytes == 256 * 1024 * 1024


def test_the_project_settings_as_scrapy_loads_them_are_valid(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert FinewsConfig.from_settings(get_project_settings()).feed_count == 100


def test_command_line_strings_are_parsed_with_whitespace_trimmed(tmp_path):
    config = FinewsConfig.from_settings(
        project(
            FINEWS_MARKET_TYPES="37, 38",
            FINEWS_FEED_COUNT=" 5000 ",
            FINEWS_EXPORTERS=" sqlite ",
            FINEWS_REFRESH="Yes",
            FINEWS_LOCK="off",
            FINEWS_WARC_CAPTURE="0",
            FINEWS_MAX_ERROR_RATIO="0.5",
            FINEWS_RECHECK_HOURS="24",
            FINEWS_SQLITE_BATCH_SECONDS="0.25",
            FINEWS_LOCK_NAME="reextract-1",
            FINEWS_WARC_DIR=str(tmp_path),
            FINEWS_REPLAY=str(tmp_path),
            FINEWS_SITE_URL="https://example.org/archive",
            FINEWS_DB_NAME="other.db",
            FINEWS_DATA_DIR=str(tmp_path),
        )
    )
    assert config.market_types == (37, 38)  # not "+38" on the wire
    assert config.feed_count == 5000 and config.exporters == frozenset({"sqlite"})
    assert (config.refresh, config.lock, config.warc_capture) == (True, False, False)
    assert (config.max_error_ratio, config.recheck_hours, config.sqlite_batch_seconds) == (0.5, 24.0, 0.25)
    assert config.lock_name == "reextract-1" and config.replay == (tmp_path,) and config.warc_dir == tmp_path
    assert config.database_path == tmp_path / "other.db"


def test_typed_values_from_a_settings_file_are_accepted():
    config = FinewsConfig.from_settings(
        project(
            FINEWS_MARKET_TYPES=[37],
            FINEWS_FEED_COUNT=7,
            FINEWS_REFRESH=True,
            FINEWS_EXPORTERS=("jekyll",),
            FINEWS_MAX_ERROR_RATIO=1,
        )
    )
    assert (config.market_types, config.feed_count, config.refresh, config.max_error_ratio) == ((37,), 7, True, 1.0)
    with pytest.raises(SettingsError, match="FINEWS_FEED_COUNT=True"):
        FinewsConfig.from_settings(project(FINEWS_FEED_COUNT=True))


def test_settings_py_declares_exactly_the_table():
    """settings.py's FINEWS_* defaults are the table's (config.SETTINGS): a setting
    declared anywhere else fails this test."""
    defined = {n: getattr(project_settings, n) for n in vars(project_settings) if n.startswith("FINEWS_")}
    assert defined == scrapy_defaults()


@pytest.mark.parametrize(
    "word, value",
    [
        ("1", True),
        ("TRUE", True),
        (" on ", True),
        ("yes", True),
        (True, True),
        ("0", False),
        ("False", False),
        ("off", False),
        ("no", False),
        (0, False),
    ],
)
def test_boolean_words(word, value):
    assert parse_bool(word) is value


def test_the_config_is_built_once_per_crawler():
    class Crawler:  # only the attribute config_for reads: the crawler's settings
        settings = project(FINEWS_FEED_COUNT="9")

    crawler = Crawler()
    first = config_for(crawler)
    assert first.feed_count == 9 and config_for(crawler) is first
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.feed_count = 10  # frozen


# -- the real command: exit 2 and one line, before the engine starts ----------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, line",
    [
        (
            ["-s", "FINEWS_FEED_COUNT=-5"],
            "not started: FINEWS_FEED_COUNT='-5': accepts a whole number from 1 to 100000",
        ),
        (["-s", "FINEWS_MARKET_TYPES="], "not started: FINEWS_MARKET_TYPES='': is empty;"),
        (
            ["-s", "FINEWS_MAX_ERROR_RATIO=abc"],
            "not started: FINEWS_MAX_ERROR_RATIO='abc': accepts a number from 0 to 1",
        ),
        (
            ["-s", "FINEWS_FEED_CONT=5"],
            "not started: FINEWS_FEED_CONT is not a setting of this project; did you mean FINEWS_FEED_COUNT?",
        ),
        (["-a", "refresh=banana"], "not started: refresh='banana': accepts 1/0, true/false, yes/no, on/off"),
        (["-a", "since=2021-13-01"], "not started: since='2021-13-01': accepts a date YYYY-MM-DD"),
        (
            ["-a", "since=2021-12-23", "-a", "until=2021-12-20"],
            "not started: since='2021-12-23' is after until='2021-12-20'",
        ),
    ],
)
def test_scrapy_crawl_exits_2_with_one_line(tmp_path, args, line):
    # The upstream points at a closed port: a run that started would fail with exit 1.
    result = scrapy(
        "crawl",
        "finews",
        *args,
        data_dir=tmp_path,
        settings={"FINEWS_FEED_URL": "http://127.0.0.1:9/webapi", "FINEWS_TEXT_URL": "http://127.0.0.1:9/t"},
    )
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    assert sum(line in text and "run summary" not in text for text in lines) == 1, result.stderr[-2000:]
    # ... and, like every run, a summary line (the failed start's own status word).
    [summary] = [text for text in lines if "run summary:" in text]
    assert "status=usage" in summary and line.replace("not started: ", "") in summary
    assert "Traceback" not in result.stderr
    assert "Spider opened" not in result.stderr and "Crawled" not in result.stderr
    assert not (tmp_path / "finews.db").exists()


@pytest.mark.slow
def test_with_a_log_file_the_line_also_reaches_stderr(tmp_path):
    log = tmp_path / "run.log"
    result = scrapy(
        "crawl", "finews", data_dir=tmp_path, settings={"FINEWS_SQLITE_BATCH_SIZE": "x", "LOG_FILE": str(log)}
    )
    assert result.returncode == 2
    expected = "not started: FINEWS_SQLITE_BATCH_SIZE='x': accepts a whole number from 1 to 100000"
    assert expected in result.stderr and expected in log.read_text("utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["rebuild", "reextract", "serve"])
def test_the_other_commands_check_the_settings_too(tmp_path, command):
    result = scrapy(command, data_dir=tmp_path, settings={"FINEWS_RECHECK_HOURS": "-1"})
    assert result.returncode == 2, result.stderr[-2000:]
    line = "not started: FINEWS_RECHECK_HOURS='-1': accepts a number from 0 to 878400"
    assert sum(line in text for text in result.stderr.splitlines()) == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_values_with_spaces_and_boolean_words_reach_every_component_parsed(upstream, tmp_path):
    """``37, 38`` asks for feeds 37 and 38 (not ``+38``), ``on`` works where components
    still call ``getbool`` (the lock), `` sqlite , jekyll`` selects both exporters."""
    from tests.conftest import crawl, posts

    result = crawl(
        "finews",
        tmp_path,
        upstream,
        settings={
            "FINEWS_MARKET_TYPES": "37, 38",
            "FINEWS_LOCK": "on",
            "FINEWS_EXPORTERS": " sqlite , jekyll",
            "FINEWS_FEED_COUNT": " 50 ",
            "FINEWS_WARC_CAPTURE": "no",
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(k for k in upstream.requests if k.startswith("feed:")) == ["feed:37", "feed:38"]
    assert posts(tmp_path) and (tmp_path / "finews.db").exists() and (tmp_path / ".locks").exists()
    assert not (tmp_path / "warc").exists()
