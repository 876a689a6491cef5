"""The reading site at archive scale: our renderer against Hugo and Jekyll.

Makes fresh SQLite archives of N synthetic articles (copies of the reference article's
body under new titles, dates every 7 minutes, spread over the registry's newspapers;
plain inserts in the archive's own schema, so making 100,000 takes seconds), then
measures, each build in a child process (wall time and the child's peak RSS from
``wait4``):

- ``build_site`` (full build into an empty directory) at each ``--ours`` size;
- ``build_site`` again over the built site (nothing changed: nothing written);
- ``update_site`` after 5 articles were added (``ArchiveDatabase.save_articles``) to the
  largest archive;
- Debian's Hugo reading the posts the project writes (``jekyll.format_post``) from
  ``_posts`` with a minimal paginated config (``--hugo`` sizes);
- Debian's Jekyll over the posts and site files the project writes (``--jekyll`` sizes).

Target: full build of 100,000 articles in at most 60 s on the 2-core machine.

    python -m bench.site [--ours 10000,100000] [--hugo 10000] [--jekyll 2000,5000]
    python -m bench.site --tiny      # toy sizes in a temporary folder; Hugo and Jekyll if installed
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from finews_spider.archive.database import ArchiveDatabase, doc_id_base
from finews_spider.archive.sinks import PostsSink
from finews_spider.registry import Registry

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "site"  # a temporary folder with --tiny
REFERENCE_POST = ROOT / "tests" / "fixtures" / "reference" / "2021-12-23-NW202112232223130395.md"
BJ = timezone(timedelta(hours=8))
START = datetime(2020, 1, 1, 6, 0, tzinfo=BJ)
SHARE = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode="


def reference_body() -> str:
    """The body of the reference post (between the front matter and the share link)."""
    text = REFERENCE_POST.read_text("utf-8")
    body = text.split("---\n", 2)[2]
    return body[: body.index("\n\n<http")]


def synthetic(i: int, papers, body: str) -> dict:
    """Article ``i``: a paper of the registry, a date 7 minutes after article i-1."""
    paper = papers[(i * 7919) % len(papers)]
    code = f"NW{202001010000000000 + i:018d}"
    published = (START + timedelta(minutes=7 * i)).isoformat()
    return {
        "info_code": code,
        "doc_id": doc_id_base(published),  # the publication second, as the archive numbers them
        "title": f"{paper.name}：推动高质量发展 第{i}期",
        "published_at": published,
        "published_date": published[:10],
        "newspaper": paper.name,
        "slug": paper.slug,
        "body_html": body.replace("185个", f"{i % 997}个", 1),
        "source": paper.name,
        "share_url": SHARE + code,
        "fetched_at": published,
        "content_hash": hashlib.sha1(code.encode()).hexdigest(),
        "first_seen_at": published,
        "last_seen_at": published,
    }


def make_archive(path: Path, n: int) -> Path:
    """A fresh archive of ``n`` synthetic articles (schema by ArchiveDatabase, rows by plain inserts)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    papers = Registry.load().papers
    db = ArchiveDatabase(path)
    db.sync_newspapers(papers)
    body = reference_body()
    conn = db.conn
    conn.execute("BEGIN")
    batch = []
    for i in range(n):
        batch.append(synthetic(i, papers, body))
        if len(batch) == 5000 or i == n - 1:
            cols = list(batch[0])
            conn.executemany(
                f"INSERT INTO articles ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [[r[c] for c in cols] for r in batch],
            )
            batch = []
    conn.execute("UPDATE newspapers SET article_count=(SELECT count(*) FROM articles WHERE slug=newspapers.slug)")
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


def add_articles(path: Path, start: int, k: int) -> list[str]:
    """Add ``k`` newer articles through ArchiveDatabase.save_articles (a crawl's path)."""
    papers = Registry.load().papers
    body = reference_body()
    db = ArchiveDatabase(path)
    rows = []
    for i in range(start, start + k):
        row = synthetic(i, papers, body)
        for c in ("doc_id", "first_seen_at", "last_seen_at", "published_date"):
            row.pop(c)
        rows.append(row)
    db.save_articles(rows, datetime.now(UTC))
    db.close()
    return [r["info_code"] for r in rows]


def run_child(cmd: list[str], **kw) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, stdout) of a child process. The RSS is measured by
    /usr/bin/time around it: a child's own rusage would count the pages of this (large)
    process that it shares between fork and exec. Without /usr/bin/time (Debian's
    ``time`` package) the RSS is NaN."""
    rss_file = OUT / ".rss"
    rss_file.unlink(missing_ok=True)
    timer = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file)] if os.path.exists("/usr/bin/time") else []
    t0 = time.perf_counter()
    proc = subprocess.run(
        [*timer, *cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kw,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}):\n{proc.stdout[-3000:]}")
    return seconds, int(rss_file.read_text().split()[-1]) / 1024 if timer else float("nan"), proc.stdout


def ours(db: Path, out: Path, mode: str, codes: list[str] | None = None) -> tuple[float, float, str]:
    code = (
        "import sqlite3, sys, json; from finews_spider.site import build_site, update_site\n"
        f"conn = sqlite3.connect('file:{db}?mode=ro', uri=True)\n"
    )
    if mode == "build":
        code += f"print(json.dumps(build_site(conn, {str(out)!r})))"
    else:
        code += f"print(json.dumps(update_site(conn, {str(out)!r}, {codes!r})))"
    return run_child([sys.executable, "-c", code], cwd=ROOT)


def write_posts(db: Path, root: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    writer = PostsSink(root, "//finews.withounder.com", fsync=False)  # and the Jekyll site files
    n = 0
    for row in conn.execute("SELECT * FROM articles"):
        article = dict(row)
        article["published_at"] = datetime.fromisoformat(article["published_at"])
        writer.write_post(article)
        n += 1
    conn.close()
    return n


HUGO_CONFIG = """\
baseURL = "/"
title = "finews archive"
timeZone = "Asia/Shanghai"
disableKinds = ["RSS", "sitemap", "robotsTXT", "404"]
paginate = 50
[frontmatter]
date = [":filename", ":default"]
[permalinks]
posts = "/:year/:month/:day/:slug.html"
[taxonomies]
category = "categories"
[[module.mounts]]
source = "_posts"
target = "content/posts"
[markup.goldmark.renderer]
unsafe = true
"""
HUGO_LAYOUTS = {
    "_default/baseof.html": '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>'
    '<body><a href="/">finews</a><main>{{ block "main" . }}{{ end }}</main></body></html>\n',
    "_default/single.html": '{{ define "main" }}<h1>{{ .Title }}</h1><time>{{ .Date.Format "2006-01-02 15:04" }}</time>'
    '{{ range .GetTerms "categories" }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}'
    '{{ .Content }}{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}'
    '{{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}{{ end }}\n',
    "_default/list.html": '{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Paginator.Pages }}<li><time>{{ .Date.Format "2006-01-02" }}</time> '
    '<a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>'
    '{{ with .Paginator.Next }}<a href="{{ .URL }}">older</a>{{ end }}{{ end }}\n',
    "_default/terms.html": '{{ define "main" }}<ul>{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> {{ .Count }}</li>{{ end }}</ul>{{ end }}\n',
    "index.html": '{{ define "main" }}<ul>{{ $p := .Paginate (where site.RegularPages "Section" "posts") }}{{ range $p.Pages }}<li>'
    '<a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>{{ with $p.Next }}<a href="{{ .URL }}">older</a>{{ end }}{{ end }}\n',
}


def hugo(db: Path, n: int) -> tuple[float, float, int]:
    root = OUT / f"hugo-{n}"
    shutil.rmtree(root, ignore_errors=True)
    write_posts(db, root)
    (root / "config.toml").write_text(HUGO_CONFIG)
    for rel, text in HUGO_LAYOUTS.items():
        (root / "layouts" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "layouts" / rel).write_text(text)
    seconds, rss, out = run_child(["hugo", "--quiet", "-s", str(root), "-d", str(root / "public")])
    pages = sum(1 for _ in (root / "public").rglob("*.html"))
    return seconds, rss, pages


def jekyll_build(db: Path, n: int) -> tuple[float, float, int]:
    root = OUT / f"jekyll-{n}"
    shutil.rmtree(root, ignore_errors=True)
    write_posts(db, root)  # with the project's site files
    seconds, rss, out = run_child(["jekyll", "build", "-q", "-s", str(root), "-d", str(root / "_site")])
    pages = sum(1 for _ in (root / "_site").rglob("*.html"))
    return seconds, rss, pages


def count_html(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.html"))


def sizes(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ours", default="10000,100000", help="archive sizes for our renderer")
    parser.add_argument("--hugo", default="10000", help="archive sizes for Hugo ('' to skip)")
    parser.add_argument("--jekyll", default="2000,5000", help="archive sizes for Jekyll ('' to skip)")
    parser.add_argument("--keep", action="store_true", help="keep the built sites under bench/out/site/")
    parser.add_argument("--tiny", action="store_true", help="toy sizes, in seconds: checks the script runs")
    args = parser.parse_args()
    if args.tiny:
        global OUT
        args.ours = "40"
        args.hugo = "20" if shutil.which("hugo") else ""
        args.jekyll = "20" if shutil.which("jekyll") else ""
        print(f"tiny: hugo {'on' if args.hugo else 'not installed'}, jekyll {'on' if args.jekyll else 'not installed'}")
        with tempfile.TemporaryDirectory(prefix="finews-bench-site-") as tmp:
            OUT = Path(tmp)
            run(args)
        return
    run(args)


def run(args: argparse.Namespace) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    table = []
    archives: dict[int, Path] = {}

    def archive(n: int) -> Path:
        if n not in archives:
            t0 = time.perf_counter()
            archives[n] = make_archive(OUT / f"archive-{n}.db", n)
            print(f"  archive of {n:,} articles made in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        return archives[n]

    for n in sizes(args.jekyll):
        s, rss, pages = jekyll_build(archive(n), n)
        table.append(("Jekyll 4.3 (Debian), project's site files", n, s, rss, f"{pages:,} pages"))
        print(table[-1], file=sys.stderr)
    for n in sizes(args.hugo):
        s, rss, pages = hugo(archive(n), n)
        table.append(("Hugo 0.111 (Debian), posts from _posts", n, s, rss, f"{pages:,} pages"))
        print(table[-1], file=sys.stderr)
        if not args.keep:
            shutil.rmtree(OUT / f"hugo-{n}", ignore_errors=True)
    for n in sizes(args.ours):
        db = archive(n)
        site = OUT / f"ours-{n}"
        shutil.rmtree(site, ignore_errors=True)
        s, rss, out = ours(db, site, "build")
        table.append(("ours: build_site, empty dir", n, s, rss, f"{count_html(site):,} pages; {out.strip()}"))
        print(table[-1], file=sys.stderr)
        s, rss, out = ours(db, site, "build")
        table.append(("ours: build_site again, nothing changed", n, s, rss, out.strip()))
        print(table[-1], file=sys.stderr)
        if n == max(sizes(args.ours)):
            codes = add_articles(db, n, 5)
            s, rss, out = ours(db, site, "update", codes)
            table.append(("ours: update_site, 5 new articles", n + 5, s, rss, out.strip()))
            print(table[-1], file=sys.stderr)
        if not args.keep:
            shutil.rmtree(site, ignore_errors=True)
    if not args.keep:
        for n in sizes(args.jekyll):
            shutil.rmtree(OUT / f"jekyll-{n}", ignore_errors=True)
    print(f"\n{'engine':<45} {'articles':>9} {'seconds':>8} {'peak RSS':>9}  notes")
    for name, n, s, rss, note in table:
        print(f"{name:<45} {n:>9,} {s:>8.1f} {rss:>6.0f} MiB  {note}")
    print(f"\n{os.cpu_count()} cores, shared with other jobs; load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
