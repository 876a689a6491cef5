"""Every ``FINEWS_*`` setting, declared once and parsed once, before the engine starts.

Each field of :class:`FinewsConfig` is one setting, declared with :func:`setting`: its
Scrapy name, its default (as ``-s NAME=VALUE`` would give it), its parser (which says
what it accepts) and one line of what it does. From that one declaration come the config
object, the defaults in ``settings.py`` (:func:`scrapy_defaults`) and the settings
reference in ``docs/reference/settings.md`` (``finews_spider.reference``).

:meth:`FinewsConfig.from_settings` turns Scrapy settings (or any mapping) into one frozen
:class:`FinewsConfig`, or raises :class:`~finews_spider.exceptions.SettingsError` with one
line that names the setting, the value given and what it accepts. A ``FINEWS_*`` name that
is not a setting (a misspelling such as ``FINEWS_FEED_CONT``) is an error naming the
closest one. Components ask :func:`config_for` (``config_for(crawler).feed_count``)
instead of reading settings themselves: the config is built once per crawler.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .exceptions import OutputRefused, SettingsError
from .files import check_site_folder

EXPORTERS = ("jekyll", "sqlite")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
BOOLEAN_WORDS = "1/0, true/false, yes/no, on/off"

# Upper bounds: far above any sensible value, low enough to catch a typo (an extra zero
# or two) before it is sent upstream or allocates a batch.
MAX_FEED_COUNT = 100_000
MAX_MARKET_TYPE = 9_999
MAX_FEED_TTL = 86_400  # a day: a feed older than that is no help to anyone
MAX_BATCH_SIZE = 100_000
MAX_BATCH_SECONDS = 3_600
MAX_RECHECK_HOURS = 24 * 366 * 100  # a century: "everything archived"
MAX_BACKOFF_SECONDS = 3_600
MAX_FLEET_CONCURRENCY = 1_000
MIN_WARC_BYTES = 1024
MAX_WARC_BYTES = 1 << 40
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


# -- parsers: each says what it accepts (``.accepts``), and raises ValueError with it --------
class Parser:
    """A setting's parser: ``parser(raw) -> value``, or ``ValueError`` whose message says
    what was wrong and what it accepts. ``accepts`` is that text alone (for the docs)."""

    accepts = ""

    def __call__(self, value: Any) -> Any:
        raise NotImplementedError

    def refuse(self, detail: str = "") -> ValueError:
        return ValueError(f"{detail}; accepts {self.accepts}" if detail else f"accepts {self.accepts}")


class Boolean(Parser):
    accepts = f"a boolean ({BOOLEAN_WORDS})"

    def __call__(self, value: Any) -> bool:
        return parse_bool(value)


def parse_bool(value: Any) -> bool:
    """``True``/``False`` for a boolean or one of the words 1/0, true/false, yes/no,
    on/off (any case, surrounding spaces ignored); ``ValueError`` for anything else.

    >>> parse_bool(" Yes "), parse_bool(0)
    (True, False)
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    word = str(value).strip().lower() if isinstance(value, str) else None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"accepts a boolean ({BOOLEAN_WORDS})")


class Whole(Parser):
    """A whole number from ``low`` to ``high``."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high
        self.accepts = f"a whole number from {low} to {high}"

    def __call__(self, value: Any) -> int:
        if isinstance(value, bool) or isinstance(value, float):
            raise self.refuse()
        if isinstance(value, str):
            text = value.strip()
            if not re.fullmatch(r"[+-]?\d+", text):
                raise self.refuse()
            value = int(text)
        if not isinstance(value, int) or not self.low <= value <= self.high:
            raise self.refuse()
        return value


class Number(Parser):
    """A finite number from ``low`` (or above it, ``low_open``) to ``high``."""

    def __init__(self, low: float, high: float, *, low_open: bool = False):
        self.low, self.high, self.low_open = low, high, low_open
        lower = f"above {low:g}" if low_open else f"from {low:g}"
        self.accepts = f"a number {lower} to {high:g}"

    def __call__(self, value: Any) -> float:
        if isinstance(value, bool):
            raise self.refuse()
        try:
            number = float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            raise self.refuse() from None
        if not math.isfinite(number) or not self.low <= number <= self.high or (self.low_open and number == self.low):
            raise self.refuse()
        return number


def _items(value: Any) -> list:
    """A list setting: a Python list/tuple, or a comma-separated string."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        return value.split(",")
    raise ValueError("accepts a comma-separated list")


class MarketTypes(Parser):
    accepts = f"a comma-separated list of market type numbers (1 to {MAX_MARKET_TYPE}), e.g. 37,38,39"

    def __call__(self, value: Any) -> tuple[int, ...]:
        items = _items(value)
        if not items or all(isinstance(i, str) and not i.strip() for i in items):
            raise self.refuse("is empty")
        number = Whole(1, MAX_MARKET_TYPE)
        out: list[int] = []
        for item in items:
            try:
                parsed = number(item)
            except ValueError:
                raise self.refuse(f"has {item!r}") from None
            if parsed in out:
                raise self.refuse(f"lists {parsed} twice")
            out.append(parsed)
        return tuple(out)


class Exporters(Parser):
    accepts = "jekyll and/or sqlite, comma-separated"

    def __call__(self, value: Any) -> frozenset[str]:
        names = [str(i).strip() for i in _items(value)]
        if not any(names):
            raise self.refuse("is empty")
        for name in names:
            if name not in EXPORTERS:
                close = difflib.get_close_matches(name, EXPORTERS, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise self.refuse(f"has unknown exporter {name!r}{hint}")
        return frozenset(names)


class Sinks(Parser):
    """Sink name -> class path (``package.module.Class``); ``None`` or empty turns that
    sink off, as in Scrapy's component dicts."""

    accepts = 'a mapping of sink names to class paths (package.module.Class, or null for off), e.g. {"site": null}'

    def __call__(self, value: Any) -> dict[str, str]:
        if isinstance(value, str):
            try:
                value = json.loads(value or "{}")
            except ValueError:
                raise self.refuse() from None
        if hasattr(value, "copy_to_dict"):  # a Scrapy BaseSettings
            value = value.copy_to_dict()
        if not isinstance(value, Mapping):
            raise self.refuse()
        out = {}
        for name, path in value.items():
            if path in (None, ""):
                continue
            if not isinstance(name, str) or not isinstance(path, str) or not re.fullmatch(r"[\w.]+\.\w+", path):
                raise self.refuse()
            out[name] = path
        return out


class HttpUrl(Parser):
    accepts = "an http:// or https:// URL with a host"

    def __call__(self, value: Any) -> str:
        if not isinstance(value, str) or value != value.strip() or not value:
            raise self.refuse()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
            raise self.refuse()
        try:
            parts.port  # noqa: B018 - raises for a port that is not a number
        except ValueError:
            raise self.refuse() from None
        return value


class SiteUrl(Parser):
    accepts = "an http(s)://host or //host base (a path may follow), without a trailing slash"

    def __call__(self, value: Any) -> str:
        if not isinstance(value, str) or not value or any(c.isspace() for c in value) or value.endswith("/"):
            raise self.refuse()
        parts = urlsplit(value)
        if parts.scheme not in ("", "http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise self.refuse()
        if not parts.scheme and not value.startswith("//"):
            raise self.refuse()
        return value


class Folder(Parser):
    """A folder path; with ``optional``, unset or empty gives ``None``."""

    def __init__(self, optional: bool = False):
        self.optional = optional
        self.accepts = "a folder path, or empty" if optional else "a folder path"

    def __call__(self, value: Any) -> Path | None:
        if self.optional and value in (None, ""):
            return None
        if isinstance(value, Path):
            value = str(value)
        if not isinstance(value, str) or not value.strip() or value != value.strip() or "\0" in value:
            raise ValueError("accepts a folder path")
        return Path(value)


class FileName(Parser):
    """A file name (no folder); with ``optional``, unset or empty gives ``None``."""

    def __init__(self, optional: bool = False):
        self.optional = optional
        self.accepts = "a file name (letters, digits, '.', '_', '-'; no folder)" + (", or empty" if optional else "")

    def __call__(self, value: Any) -> str | None:
        if self.optional and value in (None, ""):
            return None
        if not isinstance(value, str) or not _FILE_NAME.fullmatch(value) or value in (".", ".."):
            raise ValueError("accepts a file name (letters, digits, '.', '_', '-'; no folder)")
        return value


class RedisUrl(Parser):
    accepts = "a redis://host[:port][/db], rediss://… or unix:///path URL, or empty for one machine"

    def __call__(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or value != value.strip() or any(c.isspace() for c in value):
            raise self.refuse()
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise self.refuse()
        if parts.scheme == "unix" and not parts.path:
            raise self.refuse()
        if parts.scheme != "unix":
            try:
                if not parts.hostname or parts.port == 0:
                    raise self.refuse()
            except ValueError:
                raise self.refuse() from None
        return value


class Replay(Parser):
    """Comma-separated WARC files or folders (e.g. one folder per crawl machine)."""

    accepts = "existing WARC files or folders, comma-separated, or empty"

    def __call__(self, value: Any) -> tuple[Path, ...]:
        paths = []
        folder = Folder()
        for item in _items(value) if value not in (None, "") else []:
            path = folder(item.strip() if isinstance(item, str) else item)
            assert path is not None
            if not path.exists():
                raise ValueError(f"names no existing WARC file or folder ({path})")
            if not (path.is_file() or path.is_dir()):
                raise ValueError("accepts WARC files or folders of WARC files")
            paths.append(path)
        return tuple(paths)


# -- the table ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    """One ``FINEWS_*`` setting: its name, its default as ``settings.py`` gives it (what
    ``-s NAME=VALUE`` replaces), its parser, one line of what it does; ``internal``: set
    by one process for another, not by users; ``field``: its :class:`FinewsConfig` field."""

    name: str
    default: Any
    parse: Parser
    doc: str
    internal: bool = False
    field: str = ""


def setting(name: str, default: Any, parse: Parser, doc: str, *, internal: bool = False) -> Any:
    """Declare the setting ``name`` as a field of :class:`FinewsConfig` (see :class:`Setting`)."""
    return field(metadata={"setting": Setting(name, default, parse, doc, internal)})


@dataclass(frozen=True)
class FinewsConfig:
    """The project's settings, parsed: one field per ``FINEWS_*`` setting, declared here.
    The order is the order in which errors are looked for and the docs list them."""

    # -- the upstream service (docs/upstream.md)
    feed_url: str = setting(
        "FINEWS_FEED_URL",
        "http://43.240.125.15:1818/information/newmarket/web/webapi",
        HttpUrl(),
        "the listing endpoint",
    )
    text_url: str = setting(
        "FINEWS_TEXT_URL", "http://finews.zning.xyz/NewsData/GetNewsText.do", HttpUrl(), "one article's body"
    )
    share_url: str = setting(
        "FINEWS_SHARE_URL",
        "http://finews.zning.xyz/html_News/NewsShare.html",
        HttpUrl(),
        "the public link written into posts; never where bytes came from",
    )
    market_types: tuple[int, ...] = setting("FINEWS_MARKET_TYPES", [37, 38, 39], MarketTypes(), "the feeds read")
    feed_count: int = setting("FINEWS_FEED_COUNT", 100, Whole(1, MAX_FEED_COUNT), "records asked per feed")
    feed_ttl: float = setting(
        "FINEWS_FEED_TTL",
        60,
        Number(0, MAX_FEED_TTL),
        "seconds a feed fetched by any run on this data folder answers the others (the feed cache; 0: off; "
        "off when replaying)",
    )
    # -- the archive
    data_dir: Path = setting("FINEWS_DATA_DIR", "data", Folder(), "the archive's home")
    db_name: str = setting("FINEWS_DB_NAME", "finews.db", FileName(), "the database file in it")
    exporters: frozenset[str] = setting(
        "FINEWS_EXPORTERS",
        ["jekyll", "sqlite"],
        Exporters(),
        "which archives to write (without sqlite nothing is remembered, so every run fetches everything)",
    )
    sinks: dict[str, str] = setting(
        "FINEWS_SINKS",
        {
            "posts": "finews_spider.archive.sinks.PostsSink",
            "feeds": "finews_spider.archive.sinks.FeedsSink",
            "site": "finews_spider.site.sink.SiteSink",
        },
        Sinks(),
        "what the data folder holds besides the database, each written by one sink after every batch "
        "(a sink whose settings turn it off writes nothing)",
    )
    site_url: str = setting(
        "FINEWS_SITE_URL", "//finews.withounder.com", SiteUrl(), "the site base in posts' back links"
    )
    site_dir: Path | None = setting(
        "FINEWS_SITE_DIR",
        None,
        Folder(optional=True),
        "the reading site's folder: `scrapy site` writes there by default; when set, runs update it after each batch",
    )
    sqlite_batch_size: int = setting(
        "FINEWS_SQLITE_BATCH_SIZE", 200, Whole(1, MAX_BATCH_SIZE), "articles per database transaction, at most …"
    )
    sqlite_batch_seconds: float = setting(
        "FINEWS_SQLITE_BATCH_SECONDS",
        1.0,
        Number(0, MAX_BATCH_SECONDS, low_open=True),
        "… and seconds an article may wait to be written",
    )
    # -- scheduled runs
    refresh: bool = setting("FINEWS_REFRESH", False, Boolean(), "fetch archived articles again (as `-a refresh=1`)")
    recheck_hours: float = setting(
        "FINEWS_RECHECK_HOURS",
        0,
        Number(0, MAX_RECHECK_HOURS),
        "also fetch again archived articles published less than this many hours ago, to catch late "
        "corrections (0: off, so a cron run sends only feed requests)",
    )
    max_error_ratio: float = setting(
        "FINEWS_MAX_ERROR_RATIO",
        0.0,
        Number(0, 1),
        "the share of a run's articles whose fetch may fail while the run still says ok",
    )
    lock: bool = setting("FINEWS_LOCK", True, Boolean(), "one run per spider and data folder at a time")
    lock_name: str | None = setting(
        "FINEWS_LOCK_NAME",
        None,
        FileName(optional=True),
        "the lock's name (default: the spider's; commands that write every paper use `finews`)",
    )
    retry_backoff_base: float = setting(
        "FINEWS_RETRY_BACKOFF_BASE",
        1.0,
        Number(0, MAX_BACKOFF_SECONDS),
        "retry n of a request waits base × 2^(n−1) seconds …",
    )
    retry_backoff_max: float = setting(
        "FINEWS_RETRY_BACKOFF_MAX", 30.0, Number(0, MAX_BACKOFF_SECONDS), "… at most this long (at least the base)"
    )
    # -- raw capture and replay (WARC)
    warc_capture: bool = setting("FINEWS_WARC_CAPTURE", True, Boolean(), "keep every exchange in WARC files")
    warc_dir_setting: Path | None = setting(
        "FINEWS_WARC_DIR", None, Folder(optional=True), "where (default: <FINEWS_DATA_DIR>/warc)"
    )
    warc_max_bytes: int = setting(
        "FINEWS_WARC_MAX_BYTES",
        256 * 1024 * 1024,
        Whole(MIN_WARC_BYTES, MAX_WARC_BYTES),
        "start a new WARC file past this size",
    )
    replay: tuple[Path, ...] = setting(
        "FINEWS_REPLAY",
        None,
        Replay(),
        "answer every request from these WARC files (the latest good capture), send nothing",
    )
    # -- many machines (docs/fleet.md)
    redis_url: str | None = setting(
        "FINEWS_REDIS_URL", None, RedisUrl(), "the fleet's Redis server: `scrapy crawl` becomes a worker of the fleet"
    )
    fleet_concurrency_per_host: int = setting(
        "FINEWS_FLEET_CONCURRENCY_PER_HOST",
        2,
        Whole(1, MAX_FLEET_CONCURRENCY),
        "requests in flight to one upstream host, all workers together",
    )
    fleet_delay: float = setting(
        "FINEWS_FLEET_DELAY",
        0.0,
        Number(0, MAX_BACKOFF_SECONDS),
        "seconds between two requests to one host, all workers together",
    )
    # -- between processes (not for users)
    run_report: Path | None = setting(
        "FINEWS_RUN_REPORT",
        None,
        Folder(optional=True),
        "write the run's stats as JSON to this file at the end (set by `scrapy reextract` for its workers)",
        internal=True,
    )
    record_crawl: bool = setting(
        "FINEWS_RECORD_CRAWL",
        True,
        Boolean(),
        "write the run's crawls row (`scrapy reextract` writes one for all its workers)",
        internal=True,
    )
    fleet_worker: bool = setting(
        "FINEWS_FLEET_WORKER",
        False,
        Boolean(),
        "this run is a worker of the fleet (set by `scrapy crawl` when FINEWS_REDIS_URL is set)",
        internal=True,
    )

    @property
    def database_path(self) -> Path:
        """``<data_dir>/<db_name>``."""
        return self.data_dir / self.db_name

    @property
    def warc_dir(self) -> Path:
        """``FINEWS_WARC_DIR``, or ``<data_dir>/warc`` when it is unset."""
        return self.warc_dir_setting or self.data_dir / "warc"

    @classmethod
    def from_settings(cls, settings: Any) -> FinewsConfig:
        """Parse and check every ``FINEWS_*`` setting of ``settings`` (a Scrapy
        ``Settings`` or any mapping; a setting it lacks takes its default):
        :class:`SettingsError` for the first bad one."""
        check_names(settings)
        values = {}
        for item in SETTINGS:
            raw = settings.get(item.name, item.default)
            try:
                values[item.field] = item.parse(raw)
            except ValueError as exc:
                raise SettingsError(f"{item.name}={raw!r}: {exc}") from None
        if values["site_dir"] is not None:
            try:
                check_site_folder(
                    values["site_dir"], [values["data_dir"], values["warc_dir_setting"] or values["data_dir"]]
                )
            except OutputRefused as exc:
                raise SettingsError(f"FINEWS_SITE_DIR={settings.get('FINEWS_SITE_DIR')!r}: {exc}") from None
        if values["retry_backoff_max"] < values["retry_backoff_base"]:
            raise SettingsError(
                f"FINEWS_RETRY_BACKOFF_MAX={settings.get('FINEWS_RETRY_BACKOFF_MAX')!r}: is below "
                f"FINEWS_RETRY_BACKOFF_BASE={settings.get('FINEWS_RETRY_BACKOFF_BASE')!r}: accepts a number at "
                "least the base"
            )
        return cls(**values)


#: Every setting, in declaration order, with its :class:`FinewsConfig` field.
SETTINGS: tuple[Setting, ...] = tuple(
    Setting(**{**vars(f.metadata["setting"]), "field": f.name}) for f in fields(FinewsConfig)
)
SETTING_NAMES = frozenset(s.name for s in SETTINGS)


def scrapy_defaults() -> dict[str, Any]:
    """``FINEWS_* -> default`` of every setting: what ``settings.py`` declares for Scrapy."""
    return {s.name: copy.deepcopy(s.default) for s in SETTINGS}


def project_config(**overrides: Any) -> FinewsConfig:
    """The config of the defaults, with ``overrides`` (field names): for tools and tests
    that open an archive outside a command.

    >>> project_config(data_dir=Path("/tmp/a")).database_path
    PosixPath('/tmp/a/finews.db')
    """
    from dataclasses import replace

    return replace(FinewsConfig.from_settings({}), **overrides)


def check_names(settings: Any) -> None:
    """:class:`SettingsError` for a ``FINEWS_*`` name that is no setting, naming the
    closest one (``FINEWS_FEED_CONT`` -> ``FINEWS_FEED_COUNT``)."""
    names = [name for name, _ in settings.items()] if hasattr(settings, "items") else list(settings)
    unknown = sorted(
        n for n in names if isinstance(n, str) and n.upper().startswith("FINEWS") and n not in SETTING_NAMES
    )
    for name in unknown:
        close = difflib.get_close_matches(name.upper(), sorted(SETTING_NAMES), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else "; see docs/reference/settings.md"
        raise SettingsError(f"{name} is not a setting of this project{hint}")


_CACHE_ATTR = "_finews_config"


def install_config(crawler: Any) -> FinewsConfig:
    """Check the crawler's settings (:class:`SettingsError` when one cannot be used) and
    cache the config for :func:`config_for`. Call before the crawl starts."""
    config = FinewsConfig.from_settings(crawler.settings)
    setattr(crawler, _CACHE_ATTR, config)
    return config


def config_for(crawler: Any) -> FinewsConfig:
    """The crawler's :class:`FinewsConfig`, parsed from its settings on first use and
    cached on the crawler, so every component sees the same checked values."""
    config = getattr(crawler, _CACHE_ATTR, None)
    if config is None:
        config = install_config(crawler)
    return config
