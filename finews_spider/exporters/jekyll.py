"""Jekyll posts and category pages, as pure formatting (no I/O: the archive writes them).

The post format is the existing archive's (the reference post in
``tests/fixtures/reference/``, described in ``docs/upstream.md``): the same article gives
the same bytes. Front-matter values are quoted by PyYAML, so any title reads back
unchanged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime
from importlib import resources

import yaml

from ..cleaning.names import markdown_text

POSTS_DIR = "_posts"
CATEGORY_DIR = "category"
_POST_NAME = re.compile(r"\d{4}-\d{2}-\d{2}-([A-Za-z0-9]+)\.md")
_INF = float("inf")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def yaml_quote(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that reads back as exactly ``text``.

    >>> yaml_quote('a "b"')
    '"a \\\\"b\\\\""'
    """
    if _PLAIN_QUOTED.fullmatch(text):
        return f'"{text}"'  # nothing to escape: what the YAML emitter writes, 30 times faster
    return yaml.safe_dump(text, default_style='"', allow_unicode=True, width=_INF).rstrip("\n")


#: Text that YAML's emitter writes double-quoted as it is (printable, without ``"`` or
#: ``\``, and none of what it escapes: controls, U+0085, U+2028, U+2029, U+FEFF, U+FFFE
#: and above, surrogates).
_PLAIN_QUOTED = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*")


@functools.lru_cache(maxsize=4096)
def yaml_scalar(text: str) -> str:
    """``text`` as the value of a YAML mapping, plain where YAML reads it back unchanged
    as a string (``山西晚报新闻``), quoted otherwise (``'yes'``)."""
    return yaml.safe_dump({"k": text}, allow_unicode=True, width=_INF)[3:].rstrip("\n")


def post_filename(info_code: str, published_at: datetime) -> str:
    """``<YYYY-MM-DD>-<infoCode>.md``, the date in the article's own (Beijing) time."""
    return f"{published_at:%Y-%m-%d}-{info_code}.md"


def info_code_of_post(filename: str) -> str | None:
    """The infoCode of a post's file name, or None for a file that is not a post."""
    match = _POST_NAME.fullmatch(filename)
    return match.group(1) if match else None


def post_path(slug: str, published_at: str, info_code: str) -> str:
    """``<slug>/<yyyy>/<mm>/<dd>/<infoCode>.html``, the post's URL path under the site (the
    ``permalink`` of ``_config.yml``); the date is the Beijing date of ``published_at`` (ISO)."""
    match = _DATE.match(published_at)
    if match is None:
        raise ValueError(f"not an ISO date: {published_at!r}")
    y, m, d = match.groups()
    return f"{slug}/{y}/{m}/{d}/{info_code}.html"


def format_post(article: Mapping, site_url: str) -> str:
    """The Jekyll post of one article, as text (no newline after the last line).

    ``article`` needs ``title``, ``published_at`` (aware datetime), ``newspaper``,
    ``slug``, ``body_html`` and ``share_url``."""
    name, slug = article["newspaper"], article["slug"]
    published: datetime = article["published_at"]
    site_url = site_url.rstrip("/")
    return (
        "---\n"
        "layout: post\n"
        f"title: {yaml_quote(article['title'])}\n"
        f"date: {published:%Y-%m-%d %H:%M:%S %z}\n"
        f"categories: {slug}\n"
        f"tags: {yaml_scalar(name + '新闻')}\n"
        "---\n"
        f"{article['body_html']}\n"
        "\n"
        f"<{article['share_url']}>\n"
        "\n"
        f"[返回{markdown_text(name)}新闻]({site_url}/category/{slug}.html)｜[返回首页]({site_url}/)"
    )


def format_category_page(name: str, slug: str) -> str:
    """The category page of a newspaper (rendered by the ``category`` layout)."""
    return f"---\nlayout: category\ntitle: {yaml_scalar(name + '新闻')}\ncategory: {slug}\n---\n"


REDIRECT_LAYOUT = "layout: redirect\n"


def format_redirect_page(name: str, slug: str) -> str:
    """The page at an old category URL (``category/<legacy_slug>.html``) that sends the
    reader to the paper's page under its slug (the ``redirect`` layout: a meta refresh
    and a link)."""
    return f"---\n{REDIRECT_LAYOUT}title: {yaml_scalar(name + '新闻')}\nredirect_to: /{CATEGORY_DIR}/{slug}.html\n---\n"


def site_files() -> dict[str, str]:
    """The minimal Jekyll config, layouts and index (``exporters/site_files/``), by path
    relative to the data folder."""
    root = resources.files(__package__) / "site_files"
    out: dict[str, str] = {}

    def walk(node, prefix: str) -> None:
        for child in node.iterdir():
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, rel + "/")
            else:
                out[rel] = child.read_text(encoding="utf-8")

    walk(root, "")
    return out
