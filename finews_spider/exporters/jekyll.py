"""Jekyll posts and category pages: pure formatting plus atomic file writes.

The post format is fixed by ``shared/reference/``: the same article gives the same bytes.
"""

from __future__ import annotations

import ctypes
import os
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from ..cleaning.names import markdown_text

POSTS_DIR = "_posts"
CATEGORY_DIR = "category"

# Characters that YAML may not carry raw inside a double-quoted scalar, or that it would
# read as a line break: escape them.
_YAML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_YAML_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]')
_YAML_PLAIN_SAFE = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`]([^:#\n]|:(?!\s)|#(?<!\s#))*")


def yaml_quote(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that reads back as exactly ``text``."""

    def escape(match: re.Match) -> str:
        ch = match.group(0)
        return _YAML_ESCAPES.get(ch) or f"\\u{ord(ch):04x}"

    return '"' + _YAML_NEEDS_ESCAPE.sub(escape, text) + '"'


def yaml_scalar(text: str) -> str:
    """``text`` plain where YAML reads it back unchanged as a string, else double-quoted."""
    if _YAML_PLAIN_SAFE.fullmatch(text) and text.strip() == text and not _YAML_NEEDS_ESCAPE.search(text) and not re.fullmatch(r"[-+.\d:eE_]+|true|false|yes|no|on|off|null|~", text, re.I):
        return text
    return yaml_quote(text)


def post_filename(info_code: str, published_at: datetime) -> str:
    return f"{published_at:%Y-%m-%d}-{info_code}.md"


def format_post(article: Mapping, site_url: str) -> str:
    """The Jekyll post of one article, as text (no newline after the last line)."""
    name, slug = article["newspaper"], article["slug"]
    published: datetime = article["published_at"]
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
    return f"---\nlayout: category\ntitle: {yaml_scalar(name + '新闻')}\ncategory: {slug}\n---\n"


SITE_FILES = {
    "_config.yml": """\
title: finews archive
description: 地方报纸财经新闻存档
timezone: Asia/Shanghai
markdown: kramdown
permalink: /:categories/:year/:month/:day/:title:output_ext
exclude: [finews.db, finews.db-wal, finews.db-shm, warc, sample, metadata.yml, plugins, templates, "*.jsonl"]
""",
    "_layouts/default.html": """\
<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% if page.title %}{{ page.title | escape }} - {% endif %}{{ site.title | escape }}</title>
</head>
<body>
<header><a href="{{ '/' | relative_url }}">{{ site.title | escape }}</a></header>
<main>
{{ content }}
</main>
</body>
</html>
""",
    "_layouts/post.html": """\
---
layout: default
---
<article class="post">
<h1 class="post-title">{{ page.title | escape }}</h1>
<p class="post-meta"><time datetime="{{ page.date | date_to_xmlschema }}">{{ page.date | date: "%Y-%m-%d %H:%M" }}</time>
{% for tag in page.tags %}<span class="post-tag">{{ tag | escape }}</span>{% endfor %}</p>
<div class="post-content">
{{ content }}
</div>
</article>
""",
    "_layouts/category.html": """\
---
layout: default
---
<h1 class="category-title">{{ page.title | escape }}</h1>
<ul class="post-list">
{% for post in site.categories[page.category] %}<li><time datetime="{{ post.date | date_to_xmlschema }}">{{ post.date | date: "%Y-%m-%d %H:%M" }}</time> <a href="{{ post.url | relative_url }}">{{ post.title | escape }}</a></li>
{% endfor %}</ul>
""",
    "index.html": """\
---
layout: default
title: 首页
---
<ul class="post-list">
{% for post in site.posts limit:100 %}<li><time datetime="{{ post.date | date_to_xmlschema }}">{{ post.date | date: "%Y-%m-%d %H:%M" }}</time> <a href="{{ post.url | relative_url }}">{{ post.title | escape }}</a></li>
{% endfor %}</ul>
""",
}


def write_atomic(path: Path, text: str, fsync: bool = True) -> bool:
    """Write ``text`` to ``path`` through a temporary file and a rename, so a reader (or a
    run killed half-way) never sees a partial file. Returns False when the file already
    held exactly these bytes (nothing written).

    With ``fsync=False`` the data is not flushed to disk here: the caller must call
    :func:`sync_filesystem` before it records the file as written anywhere else."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        if fsync:
            os.fsync(f.fileno())
    os.replace(tmp, path)
    return True


def sync_filesystem(path: Path) -> None:
    """Flush every file written under ``path`` to disk: one ``syncfs`` of its filesystem
    (Linux), else ``sync``. Cheaper than an fsync per post when many posts precede one
    database commit."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _syncfs is not None and _syncfs(fd) == 0:
            return
        os.sync()
    finally:
        os.close(fd)


def _load_syncfs():
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


_syncfs = _load_syncfs()


def remove_stale_temporaries(root: Path) -> list[Path]:
    """Remove temporary files left by runs that were killed (their process is gone), in
    the folders this module writes to (not the whole tree: warc/ and _site/ can be big)."""
    removed = []
    folders = [root, root / POSTS_DIR, root / CATEGORY_DIR, root / "_layouts"]
    for tmp in (t for folder in folders if folder.is_dir() for t in folder.glob(".*.tmp")):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and _alive(int(pid)):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SiteWriter:
    """Writes the posts and category pages of one archive directory.

    An article whose date changed gets a new file name; its post under the old date is
    removed once the new one is in place, so an article never has two posts. The posts
    on disk are listed once, when the writer starts."""

    def __init__(self, root: Path, site_url: str, fsync: bool = True):
        self.root, self.site_url, self.fsync = Path(root), site_url.rstrip("/"), fsync
        self.posts_dir = self.root / POSTS_DIR
        self.by_code: dict[str, set[str]] = {}
        if self.posts_dir.is_dir():
            with os.scandir(self.posts_dir) as entries:
                for entry in entries:
                    match = _POST_NAME.fullmatch(entry.name)
                    if match:
                        self.by_code.setdefault(match.group(1), set()).add(entry.name)

    def write(self, article: Mapping) -> bool:
        """Write an article's post (and its newspaper's category page if missing).
        Returns False when the post already held exactly these bytes."""
        code = article["info_code"]
        name = post_filename(code, article["published_at"])
        written = write_atomic(self.posts_dir / name, format_post(article, self.site_url), self.fsync)
        for stale in self.by_code.get(code, set()) - {name}:
            (self.posts_dir / stale).unlink(missing_ok=True)
        self.by_code[code] = {name}
        category = self.root / CATEGORY_DIR / f"{article['slug']}.html"
        if not category.exists():
            write_atomic(category, format_category_page(article["newspaper"], article["slug"]))
        return written


_POST_NAME = re.compile(r"\d{4}-\d{2}-\d{2}-([A-Za-z0-9]+)\.md")


def ensure_site(root: Path) -> list[str]:
    """Write the minimal Jekyll config and layouts that are missing; never overwrite."""
    written = []
    for rel, text in SITE_FILES.items():
        path = root / rel
        if not path.exists():
            write_atomic(path, text)
            written.append(rel)
    return written
