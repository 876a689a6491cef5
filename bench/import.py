"""``scrapy import`` of synthetic posts in the old archive's shapes (mostly regional
articles of the registry's papers, some 东财滚动新闻 digests, some broken posts; see
``tests/synthetic.make_old_posts``) into a fresh data folder: posts per second.

Target: at least 2,000 posts/s on 20,000 posts.

``--runs N`` imports the same posts into N fresh data folders one after the other and
deletes them all at the end, never between runs: on ext4, creating files is markedly
slower for minutes after many were deleted (the allocator passes over recently freed
inodes), so a run that follows another's clean-up measures that, not the import. For
the same reason, a figure taken minutes after a large deletion on the same file system
(another benchmark's clean-up) reads low.

    python -m bench.import [--posts 20000] [--workers 0] [--runs 3] [--tiny]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.synthetic import make_old_posts

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=0, help="scrapy import --workers (0: its default)")
    parser.add_argument("--runs", type=int, default=3, help="imports into fresh data folders, one after the other")
    parser.add_argument("--tiny", action="store_true", help="toy sizes, in seconds: checks the script runs")
    args = parser.parse_args()
    if args.tiny:
        args.posts, args.runs = 60, 1
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old" / "_posts"
        counts = make_old_posts(old, args.posts)
        print(
            f"posts: {args.posts} ({counts['article']} articles, {counts['digest']} digests, {counts['broken']} broken)"
        )
        for run in range(1, args.runs + 1):
            data = Path(tmp) / f"data-{run}"
            cmd = [
                sys.executable,
                "-m",
                "scrapy",
                "import",
                str(old),
                "--workers",
                str(args.workers),
                "-s",
                f"FINEWS_DATA_DIR={data}",
            ]
            t0, cpu0 = time.perf_counter(), os.times()
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            wall, cpu1 = time.perf_counter() - t0, os.times()
            # The command's CPU time and its reading processes' (waited for by it): what the
            # machine's load disturbs least.
            cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
            if done.returncode != 0:
                sys.exit(f"scrapy import exited {done.returncode}: {done.stderr[-2000:]}")
            if run == 1:
                print(done.stdout.strip())
            seconds = float(re.search(r"; ([\d.]+)s", done.stdout).group(1))
            print(
                f"run {run}: {args.posts / seconds:,.0f} posts/s (the import itself, {seconds:.1f}s); "
                f"{args.posts / wall:,.0f} posts/s end to end with the command's start ({wall:.1f}s); "
                f"CPU {cpu * 1000 / args.posts:.2f} ms per post, start-up included (user and system time of the "
                f"command and its reading processes): at most {args.posts / cpu * (os.cpu_count() or 1):,.0f} "
                f"posts/s on {os.cpu_count()} free cores; load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
