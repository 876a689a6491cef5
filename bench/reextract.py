"""Re-extraction speed and memory: ``scrapy reextract`` over N captured articles.

Writes a WARC of synthetic captures (feeds of 100 records, text responses with bodies
of 5-20 KB), then runs the real ``scrapy reextract`` command on it into an empty data
directory (cleaning, Jekyll posts and SQLite rows for every article) and reports
articles per second end to end and the peak memory (max RSS of its largest process), for two sizes,
so that flat memory shows as a ratio measured in the same run. Then runs ``scrapy
bench`` for the framework's own ceiling on this machine.

Targets: at least 500 articles/s; peak memory of the larger run within 20% of the smaller.

With ``--against REV`` it instead compares this checkout with another version of the
project (a git revision, checked out into a temporary worktree and run with this
interpreter) on one WARC of the first size: both re-extract into an empty archive and
then over the archive they made, alternated for ``--rounds`` rounds (so both see the same
load), each at its own default number of workers unless ``--workers`` is given. No data
folder is deleted before the end: ext4 creates files more slowly for minutes after a
mass deletion, which would penalize whichever run came next.

    python -m bench.reextract [--sizes 10000 40000] [--tiny]
    python -m bench.reextract --against f44a1c5 [--sizes 10000] [--rounds 2] [--workers N]
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

from finews_spider.crawling import default_workers
from tests.synthetic import write_captures

ROOT = Path(__file__).resolve().parents[1]


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, int, str]:
    """(seconds, peak RSS in MiB, stderr) of one child process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - start
        err.seek(0)
        log = err.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{log[-3000:]}")
    return elapsed, usage.ru_maxrss // 1024, log


def scrapy_bench(seconds: int = 8) -> float:
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}", "-s", "LOG_LEVEL=INFO"],
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    rates = [int(r) for r in re.findall(r"at (\d+) pages/min", result.stderr)]
    return max(rates) / 60 if rates else float("nan")


def against(rev: str, n: int, rounds: int, workers: int | None) -> None:
    """Alternate this checkout and revision ``rev`` on the same captures (see the module's doc)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        other = tmp / "other"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(other), rev], cwd=ROOT, check=True)
        try:
            write_captures(tmp / "warc", n)
            sides = [("this", ROOT), (rev, other)]
            rates: dict[tuple[str, str], list[tuple[float, float]]] = {}
            print(f"{n} articles; {'--workers ' + str(workers) if workers else 'each at its default --workers'}")
            for round_no in range(rounds):
                for name, cwd in sides if round_no % 2 == 0 else sides[::-1]:
                    cmd = [
                        sys.executable,
                        "-m",
                        "scrapy",
                        "reextract",
                        str(tmp / "warc"),
                        "-s",
                        f"FINEWS_DATA_DIR={tmp / f'data-{name}-{round_no}'}",
                        "-s",
                        "LOG_LEVEL=INFO",
                    ]
                    cmd += ["--workers", str(workers)] if workers else []
                    for archive in ("empty", "existing"):
                        before = os.times()
                        seconds, _, _ = run_measured(cmd, cwd)
                        after = os.times()
                        cpu = (after.children_user - before.children_user) + (
                            after.children_system - before.children_system
                        )
                        rates.setdefault((name, archive), []).append((n / seconds, cpu * 1000 / n))
                        print(
                            f"round {round_no} {name:>10} {archive:>9}: {n / seconds:6.0f} articles/s, "
                            f"CPU {cpu * 1000 / n:.2f} ms an article (all processes), load {os.getloadavg()[0]:.1f}",
                            flush=True,
                        )
            for archive in ("empty", "existing"):
                ours, theirs = rates[("this", archive)], rates[(rev, archive)]
                ratio = sum(r for r, _ in ours) / sum(r for r, _ in theirs)
                cpu_ratio = sum(c for _, c in theirs) / sum(c for _, c in ours)
                print(
                    f"{archive}: this {' / '.join(f'{r:.0f}' for r, _ in ours)} against {rev} "
                    f"{' / '.join(f'{r:.0f}' for r, _ in theirs)} articles/s: {ratio:.2f}× (CPU: {cpu_ratio:.2f}×)"
                )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 40_000])
    parser.add_argument("--workers", type=int, default=None, help="scrapy reextract --workers (default: its own)")
    parser.add_argument("--against", metavar="REV", help="compare with this git revision instead (see above)")
    parser.add_argument("--rounds", type=int, default=2, help="with --against: rounds of alternated runs")
    parser.add_argument("--tiny", action="store_true", help="toy sizes, in seconds: checks the script runs")
    args = parser.parse_args()
    if args.tiny:
        args.sizes = [30, 60]
    if args.against:
        return against(args.against, args.sizes[0], args.rounds, args.workers)
    args.workers = args.workers or default_workers()
    print(f"scrapy reextract --workers {args.workers}")
    print(
        f"{'articles':>9}{'archive':>10}{'body MB':>9}{'seconds':>9}{'articles/s':>12}{'in crawl/s':>12}{'peak MiB':>10}"
    )
    peaks = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            size = write_captures(tmp / "warc", n)
            cmd = [
                sys.executable,
                "-m",
                "scrapy",
                "reextract",
                str(tmp / "warc"),
                "-s",
                f"FINEWS_DATA_DIR={tmp / 'data'}",
                "-s",
                "LOG_LEVEL=INFO",
                "--workers",
                str(args.workers),
            ]
            # First into an empty archive (every post and row written), then again over the
            # archive it made: the real use, applying a fixed rule to an existing archive.
            for archive, status in (("empty", "new"), ("existing", "unchanged")):
                seconds, peak, log = run_measured(cmd, ROOT)
                # One summary line per worker process (they run side by side), then the
                # command's own line adding them up.
                workers = re.findall(rf"spider=reextract status=\w+ .*{status}=(\d+).*duration=([\d.]+)s", log)
                done = sum(int(k) for k, _ in workers)
                in_crawl = max(float(d) for _, d in workers)
                assert done == n, f"re-extracted {done} of {n} as {status}"
                posts = len(list((tmp / "data" / "_posts").iterdir()))
                assert posts == n, f"{posts} posts for {n} articles"
                if archive == "empty":
                    peaks.append(peak)
                print(
                    f"{n:>9}{archive:>10}{size / 1e6:>9.0f}{seconds:>9.1f}{n / seconds:>12.0f}{n / in_crawl:>12.0f}{peak:>10}"
                )
    print(
        "articles/s is end to end (process start to exit); 'in crawl' is from the run summaries' duration;"
        " peak MiB is the largest process's maximum resident set"
    )
    if len(peaks) > 1:
        growth = peaks[-1] / peaks[0] - 1
        print(
            f"peak memory {args.sizes[-1]} vs {args.sizes[0]} articles: {growth:+.0%} (target within 20%: {'met' if abs(growth) <= 0.2 else 'NOT met'})"
        )
    print(
        f"scrapy bench on this machine: {scrapy_bench(2 if args.tiny else 8):.0f} pages/s (the framework's own ceiling)"
    )


if __name__ == "__main__":
    main()
