"""Reading the posts of an existing Jekyll archive (the old site's ``_posts/`` and
``old_post/``), as pure functions: bytes in, an article or a reasoned skip out.

Nothing here touches the disk or the database; the caller reads the files and decides
what to record. One post gives either

* an **article** dict, the fields the exporters take (``info_code``, ``title``,
  ``published_at``, ``newspaper``, ``body_html``, ``share_url``) plus what the old post
  said about where it was filed (``legacy_slug``, ``site_url``); or
* a :class:`Skip`: ``not_article`` for posts that are not newspaper articles (the
  东财滚动新闻 digests, the site's init post, posts linking elsewhere than a share page)
  or ``broken`` for posts that cannot be read as what they claim to be, each with a
  reason naming the problem.

The paper is the one the post *names* (``tags: <name>新闻`` and the footer
``[返回<name>新闻](…)``), never the one its old slug suggests: the old site filed 山西日报
and 陕西日报 alike under ``shanxiribao``. :func:`registry_paper` then gives the paper of
that name in the registry, with its correct slug (陕西日报 -> ``shaanxiribao``).

The shape read is the one ``exporters/jekyll.format_post`` writes (docs/upstream.md, "The
archive's post"); an article read from a post written by it formats back to the same
bytes. Also read: CRLF line ends, a UTF-8 byte order mark, blank lines before the front
matter, a date without an offset (Beijing time, as the old site wrote its dates), a post
without its footer (the name then comes from ``tags`` alone), and a title whose
double quotes were written unescaped (invalid YAML the old site produced).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import yaml

from .cleaning import ArticleRefused, clean_article_fields
from .cleaning.dates import BEIJING, check_sane
from .cleaning.names import NameRefused, check_newspaper_name
from .registry import Newspaper, Registry
from .upstream import info_code_from_share_url

NOT_ARTICLE = "not_article"
BROKEN = "broken"

# Categories of the old site that never hold newspaper articles, and what they are.
NOT_ARTICLE_CATEGORIES = {
    "emnews": "东财滚动新闻 digest",
    "sitenews": "site news post",
}

# The BaseLoader keeps every scalar a string: a date stays the text it was written as
# (SafeLoader would turn an offset-less date into a naive datetime and leave one with
# "+0800" a string), and a title or category of digits stays text.
_Loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

_FRONT_MATTER = re.compile(
    r"(?P<lead>(?:[ \t]*\r?\n)*)---[ \t]*\r?\n(?P<yaml>(?:.*?\r?\n)??)---[ \t]*(?:\r?\n|\Z)", re.S
)
_SHARE_LINK = re.compile(r"(?P<body>.*)(?<!\r)\r?\n\r?\n<(?P<url>[^<>\r\n]*)>[ \t]*(?P<after>(?:\r?\n.*)?)\Z", re.S)
_FOOTER = re.compile(
    r"\[返回(?P<name>[^\]\r\n]+?)新闻\]\((?P<site>[^()\s]*?)/category/(?P<slug>[^()\r\n]*?)\.html\)"
    r"｜\[返回首页\]\((?P=site)/\)"
)
_DATE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:[ \t]*(?P<offset>[+-]\d{2}:?\d{2}|Z))?"
)
_POST_NAME = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2})-(?P<code>.+)\.(?:md|markdown|html)")
_TITLE_LINE = re.compile(r'^(title:[ \t]*)"(.*)"([ \t]*\r?)$', re.M)
# The infoCode of a regional article: NW and 18 digits (NW202112232223130395).
_NW_CODE = re.compile(r"NW\d{18}")


@dataclass(frozen=True)
class Skip:
    """A post that is not imported: ``kind`` is :data:`NOT_ARTICLE` or :data:`BROKEN`,
    ``reason`` says exactly why (one line, for the import's report)."""

    kind: str
    reason: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


class PostError(ValueError):
    """Why a post cannot be read as an article (raised by :func:`parse_post_date`;
    :func:`parse_post` turns it into a ``broken`` :class:`Skip`)."""


def parse_post(data: bytes, filename: str) -> dict[str, Any] | Skip:
    """Read one old post: its bytes and its file name (``2021-12-23-NW….md``; a path is
    fine, only the last part counts).

    Returns the article dict::

        {"info_code": "NW202112232223130395", "title": "…",
         "published_at": datetime(2021, 12, 23, 7, 25, 33, tzinfo=Asia/Shanghai),
         "newspaper": "山西晚报", "body_html": "<p>…</p>",
         "share_url": "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW…",
         "legacy_slug": "shanxiwanbao", "site_url": "//finews.withounder.com"}

    ``body_html`` is exactly the text between the front matter and the share link (line
    ends included); ``legacy_slug`` is the post's ``categories`` as written; ``site_url``
    is the site base of its footer (``None`` without a footer). Or returns a
    :class:`Skip`; never raises for bad input.
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        return _parse(data, name)
    except PostError as exc:
        return Skip(BROKEN, str(exc))


def _parse(data: bytes, name: str) -> dict[str, Any] | Skip:
    if not data.strip():
        raise PostError("empty file" if not data else "file holds only white space")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PostError(f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    text = text.removeprefix("\ufeff")

    match = _FRONT_MATTER.match(text)
    if not match:
        if not text.lstrip().startswith("---"):
            raise PostError("no front matter (the file does not start with a --- line)")
        raise PostError("front matter is not closed (no second --- line)")
    first_line = match.group("lead").count("\n") + 2
    front = _front_matter(match.group("yaml"), first_line)
    rest = text[match.end() :]

    category = _text_field(front, "categories")
    if category in NOT_ARTICLE_CATEGORIES:
        return Skip(NOT_ARTICLE, f"{NOT_ARTICLE_CATEGORIES[category]} (category {category}), not a newspaper article")

    title = _text_field(front, "title")
    if title is None:
        raise PostError("no title in the front matter")
    if not title.strip():
        raise PostError('empty title (title: "")')
    published_at = parse_post_date(_text_field(front, "date"))

    link = _SHARE_LINK.match(rest)
    if not link:
        raise PostError("no share link (a <http://…> line after the body, after a blank line)")
    url, body, after = link.group("url").strip(), link.group("body"), link.group("after")
    if not url:
        raise PostError("empty share link <>")
    try:
        info_code = info_code_from_share_url(url)
    except ValueError as exc:
        file_match = _POST_NAME.fullmatch(name)
        named_as_article = file_match is not None and _NW_CODE.fullmatch(file_match.group("code"))
        if url.startswith(("http://", "https://")) and "NewsShare" not in url and not named_as_article:
            return Skip(NOT_ARTICLE, f"links to {url}, not a share page, and has no infoCode: not a newspaper article")
        raise PostError(f"bad share link: {exc}") from None
    if not body.strip():
        raise PostError("empty body")

    file_match = _POST_NAME.fullmatch(name)
    if not file_match:
        raise PostError(f"file name {name!r} is not YYYY-MM-DD-<infoCode>.md (Jekyll does not publish it)")
    if file_match.group("code") != info_code:
        raise PostError(f"file name says {file_match.group('code')}, share link says {info_code}")

    footer = _footer(after)
    tag_name = _name_from_tags(front.get("tags"))
    if footer is None and tag_name is None:
        raise PostError("no newspaper name: no footer and tags is not '<name>新闻'")
    if footer is not None and tag_name is not None and footer["name"] != tag_name:
        raise PostError(f"tags name {tag_name}, the footer {footer['name']}")
    return {
        "info_code": info_code,
        "title": title,
        "published_at": published_at,
        "newspaper": footer["name"] if footer is not None else tag_name,  # equal when both name it
        "body_html": body,
        "share_url": url,
        "legacy_slug": category,
        "site_url": footer["site"] if footer else None,
    }


def _uses_aliases(text: str) -> bool:
    """Whether YAML ``text`` holds an anchor or an alias (``&a`` … ``*a``): posts never
    do, and a few hundred bytes of nested aliases expand to gigabytes (scanned only when
    an ``&`` or ``*`` is there at all)."""
    if "&" not in text and "*" not in text:
        return False
    try:
        return any(isinstance(token, (yaml.AliasToken, yaml.AnchorToken)) for token in yaml.scan(text, Loader=_Loader))
    except yaml.YAMLError:
        return False  # not valid YAML: the loader says so, with the line


def _front_matter(text: str, first_line: int) -> dict:
    """The front matter as a dict of strings (and lists); unescaped double quotes inside
    a double-quoted title are taken as part of the title. YAML anchors and aliases are
    refused (never expanded)."""
    if _uses_aliases(text):
        raise PostError("front matter uses YAML anchors or aliases, which no post does")
    try:
        front = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        repaired = _TITLE_LINE.sub(lambda m: m.group(1) + _quote(m.group(2)) + m.group(3), text)
        try:
            front = yaml.load(repaired, Loader=_Loader) if repaired != text else None
        except yaml.YAMLError:
            front = None
        if front is None:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {first_line + mark.line})" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise PostError(f"front matter is not valid YAML: {problem}{where}") from None
    if front is None:
        raise PostError("front matter is empty")
    if not isinstance(front, dict):
        raise PostError(f"front matter is not a mapping of keys to values ({type(front).__name__})")
    return front


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text_field(front: dict, key: str) -> str | None:
    value = front.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return value[0]
    raise PostError(f"{key} is not a single text value: {value!r}")


def _name_from_tags(tags: Any) -> str | None:
    if isinstance(tags, list) and len(tags) == 1:
        tags = tags[0]
    if isinstance(tags, str) and tags.endswith("新闻") and len(tags) > 2:
        return tags[: -len("新闻")].strip() or None
    return None


def _footer(after: str) -> dict | None:
    """The footer's name, site and slug; ``None`` when the post ends after its link."""
    after = after.strip()
    if not after:
        return None
    match = _FOOTER.fullmatch(after)
    if not match:
        raise PostError(f"unexpected text after the share link: {after[:80]!r}")
    return match.groupdict()


def parse_post_date(value: str | None) -> datetime:
    """A post's ``date`` (``2021-12-23 07:25:33 +0800``) as an aware Beijing datetime.

    Without an offset the time is Beijing time, as the old site wrote it (its dates are
    the feed's, which are Beijing wall time); another offset is converted. Anything
    else raises :class:`PostError` (a ``ValueError``) saying what is wrong: never guessed.

    >>> parse_post_date("2021-12-23 07:25:33 +0800").isoformat()
    '2021-12-23T07:25:33+08:00'
    """
    if value is None:
        raise PostError("no date in the front matter")
    match = _DATE.fullmatch(value.strip())
    if not match:
        raise PostError(f"date is not YYYY-MM-DD HH:MM:SS +0800: {value!r}")
    try:
        naive = datetime.fromisoformat(f"{match['date']} {match['time']}")
    except ValueError as exc:
        raise PostError(f"date {value!r}: {exc}") from None
    offset = match["offset"]
    if offset is None:
        moment = naive.replace(tzinfo=BEIJING)
    else:
        if offset == "Z":
            zone = UTC
        else:
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        try:
            moment = naive.replace(tzinfo=zone).astimezone(BEIJING)
        except OverflowError:  # 9999-12-31 23:00:00 -1000: past what datetime holds
            raise PostError(f"date {value!r} is out of range") from None
    try:
        return check_sane(moment)
    except ValueError as exc:
        raise PostError(str(exc)) from None


def registry_paper(name: str, registry: Registry) -> Newspaper:
    """The paper an imported article belongs to, found by the name the post carries:
    the registered one with its correct slug (陕西日报 -> ``shaanxiribao``, whatever old
    slug it was filed under), else the slug an unregistered paper gets (see
    :meth:`Registry.paper_for`)."""
    return registry.paper_for(name)


_SAFE_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")


def import_article(data: bytes, filename: str) -> dict[str, Any] | Skip:
    """One old post as the archive records it today: :func:`parse_post`, then the
    newspaper name checked (``cleaning/names.py``) and the title and body cleaned with
    the clean pipeline's rules (``cleaning.clean_article_fields``: sanitized, credits
    moved out, stock tags become ``mentions``). The article dict has the fields of a
    crawled article (``fetched_at`` ``None``: nothing was fetched) plus ``legacy_slug``
    (the post's ``categories`` when it is a usable file name, else ``None``). A post that
    cannot be recorded is a ``broken`` :class:`Skip` with the reason."""
    post = parse_post(data, filename)
    if isinstance(post, Skip):
        return post
    try:
        name = check_newspaper_name(post["newspaper"])
    except NameRefused as exc:
        return Skip(BROKEN, f"newspaper name refused: {exc}")
    try:
        fields = clean_article_fields(post["title"], post["body_html"], post["share_url"], name)
    except ArticleRefused as exc:
        return Skip(BROKEN, str(exc))
    legacy = post["legacy_slug"]
    return {
        "info_code": post["info_code"],
        "published_at": post["published_at"],
        "newspaper": name,
        "share_url": post["share_url"],
        "fetched_at": None,
        **fields,
        "legacy_slug": legacy if legacy and _SAFE_SLUG.fullmatch(legacy) else None,
    }


def reason_kind(reason: str) -> str:
    """A broken post's reason without its particulars, to count reasons by kind:
    the text before the first ``:`` or ``(``, e.g. ``date is not YYYY-MM-DD HH:MM:SS +0800``.

    >>> reason_kind("front matter is not valid YAML: found unexpected end of stream (line 3)")
    'front matter is not valid YAML'
    """
    kind = re.split(r": |\(", reason, maxsplit=1)[0].strip()
    return re.sub(r"\b[A-Za-z]*\d{6,}\b", "…", kind) or reason
