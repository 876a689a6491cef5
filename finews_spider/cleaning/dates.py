"""Publication dates, in any of the forms the newspapers use, as Beijing time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

BEIJING = ZoneInfo("Asia/Shanghai")

_CJK_DATE = str.maketrans({"年": "-", "月": "-", "日": " ", "时": ":", "点": ":", "分": " ", "秒": " "})
# A full calendar date must be present; a time and an offset may follow. Anything else
# is refused rather than guessed (dateutil alone would read "12" as the 12th of this month).
_SHAPE = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"(?:[ T]+\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2})?"
)


#: The earliest publication date an article may carry: the regional press online, and the
#: service, are younger; an earlier date is a broken record, not an old article.
EARLIEST = datetime(1990, 1, 1, tzinfo=BEIJING)
#: How far ahead of now a publication date may be (clocks and time zones differ a little).
AHEAD = timedelta(days=1)


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(value: object, name: str) -> date:
    """A date a user gives (``since``, ``until``, ``--since``…): exactly ``YYYY-MM-DD``
    (``20211201`` and ``2021-12-1`` are refused, though Python would read the first);
    ``ValueError`` naming ``name`` otherwise.

    >>> parse_day("2021-12-23", "since")
    datetime.date(2021, 12, 23)
    """
    text = str(value).strip() if value is not None else ""
    try:
        if not _DAY.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name}={value!r}: accepts a date YYYY-MM-DD (Beijing time), e.g. 2021-12-23") from None


def check_sane(moment: datetime, now: datetime | None = None) -> datetime:
    """``moment`` when it lies between :data:`EARLIEST` and a day after ``now``, else
    ``ValueError`` saying so (a date of year 9999 or 0001 is a broken record)."""
    latest = (now or datetime.now(UTC)) + AHEAD
    if not EARLIEST <= moment <= latest:
        raise ValueError(f"date {moment.isoformat()} is outside {EARLIEST:%Y-%m-%d} … {latest:%Y-%m-%d} (a day ahead)")
    return moment


def parse_published_at(value: str | None, now: datetime | None = None) -> datetime:
    """Parse an upstream date into an aware ``datetime`` in Asia/Shanghai.

    A date without an offset is Beijing time; one with an offset is converted to it.
    Raises ``ValueError`` for anything that is not a full date, and for a date outside
    the sane range (:func:`check_sane`, with ``now``).

    >>> parse_published_at("2021年12月24日 08:40").isoformat()
    '2021-12-24T08:40:00+08:00'
    """
    if not value or not isinstance(value, str):
        raise ValueError("no date")
    text = value.strip().translate(_CJK_DATE).strip()
    text = re.sub(r"\s+", " ", text).strip()
    if not _SHAPE.fullmatch(text):
        raise ValueError(f"unrecognised date {value!r}")
    try:
        # The feed's own form (and ISO 8601) parse in C; dateutil handles the rest.
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            text = re.sub(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", r"\1-\2-\3", text)
            parsed = dateutil_parser.parse(text, yearfirst=True)
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"unparseable date {value!r}: {exc}") from None
    try:
        parsed = parsed.replace(tzinfo=BEIJING) if parsed.tzinfo is None else parsed.astimezone(BEIJING)
    except OverflowError:  # year 9999 with an offset: past what datetime holds
        raise ValueError(f"date {value!r} is out of range") from None
    return check_sane(parsed, now)
