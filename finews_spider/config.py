"""Every ``FINEWS_*`` setting, parsed and checked once, before the engine starts.

:meth:`FinewsConfig.from_settings` turns Scrapy settings (typed defaults from
``settings.py`` and strings from ``-s NAME=VALUE``) into one frozen :class:`FinewsConfig`,
or raises :class:`~finews_spider.exceptions.SettingsError` with one line that names the
setting, the value given and what it accepts. A ``FINEWS_*`` name that is not a known
setting (a misspelling such as ``FINEWS_FEED_CONT``) is an error naming the closest one.

Components ask :func:`config_for` (``config_for(crawler).feed_count``) instead of parsing
settings themselves: the config is built once per crawler and cached on it.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .exceptions import SettingsError

EXPORTERS = ("jekyll", "sqlite")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
BOOLEAN_WORDS = "1/0, true/false, yes/no, on/off"

# Upper bounds: far above any sensible value, low enough to catch a typo (an extra zero
# or two) before it is sent upstream or allocates a batch.
MAX_FEED_COUNT = 100_000
MAX_MARKET_TYPE = 9_999
MAX_FEED_TTL = 86_400.0  # a day: a feed older than that is no help to anyone
MAX_BATCH_SIZE = 100_000
MAX_BATCH_SECONDS = 3_600.0
MAX_RECHECK_HOURS = 24.0 * 366 * 100  # a century: "everything archived"
MAX_BACKOFF_SECONDS = 3_600.0
MAX_FLEET_CONCURRENCY = 1_000
MIN_WARC_BYTES = 1024
MAX_WARC_BYTES = 1 << 40
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


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


def _int(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"accepts a whole number from {low} to {high}")
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError(f"accepts a whole number from {low} to {high}")
        value = int(text)
    if not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"accepts a whole number from {low} to {high}")
    return value


def _float(value: Any, low: float, high: float, *, low_open: bool = False) -> float:
    lower = f"above {low:g}" if low_open else f"from {low:g}"
    accepts = f"accepts a number {lower} to {high:g}"
    if isinstance(value, bool):
        raise ValueError(accepts)
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(accepts) from None
    if not math.isfinite(number) or number > high or number < low or (low_open and number == low):
        raise ValueError(accepts)
    return number


def _items(value: Any) -> list:
    """A list setting: a Python list/tuple, or a comma-separated string."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        return value.split(",")
    raise ValueError("accepts a comma-separated list")


def _market_types(value: Any) -> tuple[int, ...]:
    accepts = f"accepts a comma-separated list of market type numbers (1 to {MAX_MARKET_TYPE}), e.g. 37,38,39"
    items = _items(value)
    if not items or all(isinstance(i, str) and not i.strip() for i in items):
        raise ValueError(f"is empty; {accepts}")
    out: list[int] = []
    for item in items:
        try:
            number = _int(item, 1, MAX_MARKET_TYPE)
        except ValueError:
            raise ValueError(f"has {item!r}; {accepts}") from None
        if number in out:
            raise ValueError(f"lists {number} twice; {accepts}")
        out.append(number)
    return tuple(out)


def _exporters(value: Any) -> frozenset[str]:
    accepts = "accepts jekyll and/or sqlite, comma-separated"
    names = [str(i).strip() for i in _items(value)]
    if not any(names):
        raise ValueError(f"is empty; {accepts}")
    for name in names:
        if name not in EXPORTERS:
            close = difflib.get_close_matches(name, EXPORTERS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"has unknown exporter {name!r}{hint}; {accepts}")
    return frozenset(names)


def _sinks(value: Any) -> dict[str, str]:
    """``FINEWS_SINKS``: sink name -> class path (``package.module.Class``); a class path
    of ``None`` or empty turns that sink off (as Scrapy's component dicts do)."""
    accepts = 'accepts a mapping of sink names to class paths (package.module.Class), e.g. {"site": null}'
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except ValueError:
            raise ValueError(accepts) from None
    if hasattr(value, "copy_to_dict"):  # a Scrapy BaseSettings
        value = value.copy_to_dict()
    if not isinstance(value, dict):
        raise ValueError(accepts)
    out = {}
    for name, path in value.items():
        if path in (None, ""):
            continue
        if not isinstance(name, str) or not isinstance(path, str) or not re.fullmatch(r"[\w.]+\.\w+", path):
            raise ValueError(accepts)
        out[name] = path
    return out


def _http_url(value: Any) -> str:
    accepts = "accepts an http:// or https:// URL with a host"
    if not isinstance(value, str) or value != value.strip() or not value:
        raise ValueError(accepts)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError(accepts)
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise ValueError(accepts) from None
    return value


def _site_url(value: Any) -> str:
    accepts = "accepts an http(s)://host or //host base (a path may follow), without a trailing slash"
    if not isinstance(value, str) or not value or any(c.isspace() for c in value) or value.endswith("/"):
        raise ValueError(accepts)
    parts = urlsplit(value)
    if parts.scheme not in ("", "http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(accepts)
    if not parts.scheme and not value.startswith("//"):
        raise ValueError(accepts)
    return value


def _path(value: Any) -> Path:
    accepts = "accepts a folder path"
    if isinstance(value, Path):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or value != value.strip() or "\0" in value:
        raise ValueError(accepts)
    return Path(value)


def _optional_path(value: Any) -> Path | None:
    if value is None or value == "":
        return None
    return _path(value)


def _file_name(value: Any) -> str:
    accepts = "accepts a file name (letters, digits, '.', '_', '-'; no folder)"
    if not isinstance(value, str) or not _FILE_NAME.fullmatch(value) or value in (".", ".."):
        raise ValueError(accepts)
    return value


def _lock_name(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return _file_name(value)


def _redis_url(value: Any) -> str | None:
    """``FINEWS_REDIS_URL``: unset/empty (one machine) or a ``redis://`` / ``rediss://`` /
    ``unix://`` URL."""
    accepts = "accepts a redis://host[:port][/db], rediss://… or unix:///path URL, or empty for one machine"
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value != value.strip() or any(c.isspace() for c in value):
        raise ValueError(accepts)
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError(accepts)
    if parts.scheme == "unix" and not parts.path:
        raise ValueError(accepts)
    if parts.scheme != "unix":
        try:
            if not parts.hostname or parts.port == 0:
                raise ValueError(accepts)
        except ValueError:
            raise ValueError(accepts) from None
    return value


def _replay(value: Any) -> tuple[Path, ...]:
    """Comma-separated WARC files or folders (e.g. one folder per crawl machine)."""
    paths = []
    for item in _items(value) if value not in (None, "") else []:
        path = _path(item.strip() if isinstance(item, str) else item)
        if not path.exists():
            raise ValueError(f"names no existing WARC file or folder ({path})")
        if not (path.is_file() or path.is_dir()):
            raise ValueError("accepts WARC files or folders of WARC files")
        paths.append(path)
    return tuple(paths)


# setting -> (field, parser). The order is the order errors are looked for.
PARSERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "FINEWS_FEED_URL": ("feed_url", _http_url),
    "FINEWS_TEXT_URL": ("text_url", _http_url),
    "FINEWS_SHARE_URL": ("share_url", _http_url),
    "FINEWS_MARKET_TYPES": ("market_types", _market_types),
    "FINEWS_FEED_COUNT": ("feed_count", lambda v: _int(v, 1, MAX_FEED_COUNT)),
    "FINEWS_FEED_TTL": ("feed_ttl", lambda v: _float(v, 0.0, MAX_FEED_TTL)),
    "FINEWS_DATA_DIR": ("data_dir", _path),
    "FINEWS_DB_NAME": ("db_name", _file_name),
    "FINEWS_EXPORTERS": ("exporters", _exporters),
    "FINEWS_SINKS": ("sinks", _sinks),
    "FINEWS_SITE_URL": ("site_url", _site_url),
    "FINEWS_SITE_DIR": ("site_dir", _optional_path),
    "FINEWS_SQLITE_BATCH_SIZE": ("sqlite_batch_size", lambda v: _int(v, 1, MAX_BATCH_SIZE)),
    "FINEWS_SQLITE_BATCH_SECONDS": ("sqlite_batch_seconds", lambda v: _float(v, 0.0, MAX_BATCH_SECONDS, low_open=True)),
    "FINEWS_REFRESH": ("refresh", parse_bool),
    "FINEWS_RECHECK_HOURS": ("recheck_hours", lambda v: _float(v, 0.0, MAX_RECHECK_HOURS)),
    "FINEWS_MAX_ERROR_RATIO": ("max_error_ratio", lambda v: _float(v, 0.0, 1.0)),
    "FINEWS_LOCK": ("lock", parse_bool),
    "FINEWS_LOCK_NAME": ("lock_name", _lock_name),
    "FINEWS_RETRY_BACKOFF_BASE": ("retry_backoff_base", lambda v: _float(v, 0.0, MAX_BACKOFF_SECONDS)),
    "FINEWS_RETRY_BACKOFF_MAX": ("retry_backoff_max", lambda v: _float(v, 0.0, MAX_BACKOFF_SECONDS)),
    "FINEWS_WARC_CAPTURE": ("warc_capture", parse_bool),
    "FINEWS_WARC_DIR": ("warc_dir_setting", _optional_path),
    "FINEWS_WARC_MAX_BYTES": ("warc_max_bytes", lambda v: _int(v, MIN_WARC_BYTES, MAX_WARC_BYTES)),
    "FINEWS_REPLAY": ("replay", _replay),
    "FINEWS_REDIS_URL": ("redis_url", _redis_url),
    "FINEWS_FLEET_CONCURRENCY_PER_HOST": ("fleet_concurrency_per_host", lambda v: _int(v, 1, MAX_FLEET_CONCURRENCY)),
    "FINEWS_FLEET_DELAY": ("fleet_delay", lambda v: _float(v, 0.0, MAX_BACKOFF_SECONDS)),
    # Between processes, set by `scrapy reextract` for its workers.
    "FINEWS_RUN_REPORT": ("run_report", _optional_path),
    "FINEWS_RECORD_CRAWL": ("record_crawl", parse_bool),
    # Set by `scrapy crawl` when FINEWS_REDIS_URL is set: this run is a worker of the fleet.
    "FINEWS_FLEET_WORKER": ("fleet_worker", parse_bool),
}


@dataclass(frozen=True)
class FinewsConfig:
    """The project's settings, parsed: one field per ``FINEWS_*`` setting (see ``PARSERS``)."""

    feed_url: str
    text_url: str
    share_url: str
    market_types: tuple[int, ...]
    feed_count: int
    feed_ttl: float
    data_dir: Path
    db_name: str
    exporters: frozenset[str]
    sinks: dict[str, str]
    site_url: str
    site_dir: Path | None
    sqlite_batch_size: int
    sqlite_batch_seconds: float
    refresh: bool
    recheck_hours: float
    max_error_ratio: float
    lock: bool
    lock_name: str | None
    retry_backoff_base: float
    retry_backoff_max: float
    warc_capture: bool
    warc_dir_setting: Path | None
    warc_max_bytes: int
    replay: tuple[Path, ...]
    redis_url: str | None
    fleet_concurrency_per_host: int
    fleet_delay: float
    run_report: Path | None
    record_crawl: bool
    fleet_worker: bool

    @property
    def database_path(self) -> Path:
        """``<data_dir>/<db_name>``."""
        return self.data_dir / self.db_name

    @property
    def warc_dir(self) -> Path:
        """``FINEWS_WARC_DIR``, or ``<data_dir>/warc`` when it is unset."""
        return self.warc_dir_setting or self.data_dir / "warc"

    @classmethod
    def from_settings(cls, settings) -> FinewsConfig:
        """Parse and check every ``FINEWS_*`` setting of ``settings`` (a Scrapy
        ``Settings`` or any mapping); :class:`SettingsError` for the first bad one."""
        check_names(settings)
        values = {}
        for name, (field, parse) in PARSERS.items():
            raw = settings.get(name)
            try:
                values[field] = parse(raw)
            except ValueError as exc:
                raise SettingsError(f"{name}={_show(raw)}: {exc}") from None
        if values["retry_backoff_max"] < values["retry_backoff_base"]:
            raise SettingsError(
                f"FINEWS_RETRY_BACKOFF_MAX={_show(settings.get('FINEWS_RETRY_BACKOFF_MAX'))}: is below "
                f"FINEWS_RETRY_BACKOFF_BASE={_show(settings.get('FINEWS_RETRY_BACKOFF_BASE'))}: accepts a number at least the base"
            )
        return cls(**values)


def project_config(**overrides: Any) -> FinewsConfig:
    """The config of the project's own settings (``settings.py``), with ``overrides``
    (field names): for tools and tests that open an archive outside a command.

    >>> project_config(data_dir=Path("/tmp/a")).database_path
    PosixPath('/tmp/a/finews.db')
    """
    from dataclasses import replace

    from scrapy.settings import Settings

    from . import settings as defaults

    settings = Settings()
    settings.setmodule(defaults, priority="project")
    return replace(FinewsConfig.from_settings(settings), **overrides)


def setting_values(config: FinewsConfig) -> dict[str, Any]:
    """The config as setting values that Scrapy's own getters (``getbool``, ``getint``,
    ``getfloat``, ``getlist``, ``get``) read back as parsed: ``FINEWS_MARKET_TYPES`` a list
    of ints (not ``" 38"``), booleans ``True``/``False`` (not ``"on"``), paths as text."""
    out = {}
    for name, (field, _) in PARSERS.items():
        value = getattr(config, field)
        if isinstance(value, (tuple, frozenset)):
            value = sorted(value) if isinstance(value, frozenset) else list(value)
        elif isinstance(value, Path):
            value = str(value)
        if name == "FINEWS_REPLAY":
            value = ",".join(str(p) for p in value) or None
        out[name] = value
    return out


def install_config(crawler, *also) -> FinewsConfig:
    """Check the crawler's settings (:class:`SettingsError` when one cannot be used), write
    the parsed values back into them at the same priority, so that components still
    reading settings directly see ``37,38`` for ``37, 38`` and ``True`` for ``on``, and
    cache the config for :func:`config_for`. Call before the crawl starts (the settings
    freeze then). ``also``: more settings objects to rewrite the same way, e.g. the
    process's, which Scrapy merges into the crawler's when the crawl starts."""
    config = FinewsConfig.from_settings(crawler.settings)
    values = setting_values(config)
    for settings in (crawler.settings, *also):
        if settings.frozen:
            continue
        for name, value in values.items():
            settings.set(name, value, priority=settings.getpriority(name) or "project")
    setattr(crawler, _CACHE_ATTR, config)
    return config


def known_settings() -> set[str]:
    """The ``FINEWS_*`` names this project knows: those it parses and those defined in
    ``finews_spider/settings.py``."""
    from . import settings as defaults

    return set(PARSERS) | {n for n in vars(defaults) if n.startswith("FINEWS_")}


def check_names(settings) -> None:
    """:class:`SettingsError` for a ``FINEWS_*`` name that is no known setting, naming the
    closest known one (``FINEWS_FEED_CONT`` -> ``FINEWS_FEED_COUNT``)."""
    known = known_settings()
    names = [name for name, _ in settings.items()] if hasattr(settings, "items") else list(settings)
    for name in sorted(n for n in names if isinstance(n, str) and n.upper().startswith("FINEWS") and n not in known):
        close = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else "; see the settings table in the README"
        raise SettingsError(f"{name} is not a setting of this project{hint}")


def _show(value: Any) -> str:
    """A value as given, quoted so that empty strings and spaces are visible."""
    return repr(value)


_CACHE_ATTR = "_finews_config"


def config_for(crawler) -> FinewsConfig:
    """The crawler's :class:`FinewsConfig`, parsed from its settings on first use and
    cached on the crawler, so every component sees the same checked values."""
    config = getattr(crawler, _CACHE_ATTR, None)
    if config is None:
        config = FinewsConfig.from_settings(crawler.settings)
        setattr(crawler, _CACHE_ATTR, config)
    return config


FIELDS = tuple(f.name for f in fields(FinewsConfig))
