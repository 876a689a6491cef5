"""Soak: many short cron-like ``scrapy crawl`` runs against a loopback upstream whose
feeds change over time, with random faults, kills and overlapping runs; then one clean
run, whose archive must equal a fault-free crawl of the final upstream.

    .venv/bin/python -m bench.soak --runs 1000            # ~1 run/2 s on the 2-core machine
    .venv/bin/python -m bench.soak --runs 40 --seed 7
    .venv/bin/python -m bench.soak --tiny                 # 3 runs

The upstream (``tests/upstream_server.py``) starts with 20 of the sample's 34 articles;
every few runs one or two new articles appear (the rest of the sample, then copies of it
under new infoCodes), and now and then an archived article is corrected (new title and
body). Before each run faults may be injected: HTTP 500 or 503, a hang past the download
timeout, a connection reset or truncated JSON, on feeds and on the texts of the newest
articles, or the whole upstream down. A run may be SIGKILLed or interrupted with Ctrl-C
(SIGINT once, sometimes twice) at a random moment, and a second spider may run at the
same time on the same data folder (``finews`` and ``shanxiwanbao``, or two ``finews``,
one of which must exit 75).

Every run is judged by the one rule (``tests/test_fault_matrix.verdict``): exit status,
summary line and ``crawls`` row agree. A run that exits 0 must moreover have archived
every article of the feeds it read (checked against the upstream, not the run's own
words). A run that breaks either is a *dishonest exit*; the target is 0. SIGKILLed runs
give no verdict (they cannot), or, killed after giving it, exit -9 while their summary
line and crawls row must still agree; runs interrupted before Scrapy installed its signal
handlers (a ``KeyboardInterrupt`` while importing) must exit non-zero without a summary.

The final comparison: posts byte for byte; articles and newspapers rows apart from the
columns that say when (``RUN_COLUMNS``). Revisions cannot be equal: a fault-free crawl of
the final upstream sees each article once and has no revisions, while the soak archived
originals that were corrected later. So revisions are checked for what they must be:
each belongs to a corrected article, carries the title the upstream served before the
correction and a body other than the current one, and there is at most one per correction.
"""

from __future__ import annotations

import argparse
import copy
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from finews_spider.run import parse_summary, run_figures
from tests.conftest import SAMPLE_UPSTREAM, TEST_SETTINGS
from tests.test_fault_matrix import EXITS, archive_state, closed_port, crawl_rows, verdict
from tests.upstream_server import Upstream

ROOT = Path(__file__).resolve().parents[1]

FAULTS = ("500", "503", "hang", "reset", "truncate", "down")
SOAK_SETTINGS = {
    **TEST_SETTINGS,
    "DOWNLOAD_TIMEOUT": "1",
    "RETRY_TIMES": "1",
    "LOG_LEVEL": "INFO",
    "FINEWS_RETRY_BACKOFF_BASE": "0.05",
    "FINEWS_SQLITE_BATCH_SIZE": "3",
    "FINEWS_SQLITE_BATCH_SECONDS": "0.2",
}
SPIDER_PAPER = {"finews": None, "shanxiwanbao": "山西晚报"}


# -- an upstream that changes --------------------------------------------------------------
class EvolvingUpstream:
    """The sample's feeds, served a few articles at a time, growing and corrected as runs go."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.server = Upstream.from_dir(SAMPLE_UPSTREAM)
        self.all = copy.deepcopy(self.server.feeds)  # market type -> the full sample feed
        self.texts = copy.deepcopy(self.server.texts)
        self.pool: list[tuple[str, dict]] = [(mt, r) for mt, feed in self.all.items() for r in self._records(feed)]
        self.shown = 20
        self.copies = 0
        self.corrected: dict[str, str] = {}  # infoCode -> its title before the correction
        self._publish()

    @staticmethod
    def _records(feed: dict) -> list[dict]:
        return feed.get("record") or feed.get("nodeList")

    @staticmethod
    def code(record: dict) -> str:
        return record.get("infoCode") or record.get("infocode")

    def _publish(self) -> None:
        """Serve the first ``shown`` records of the pool, newest first in each feed."""
        feeds = {mt: {k: [] for k in feed if isinstance(feed[k], list)} for mt, feed in self.all.items()}
        for mt, record in self.pool[: self.shown]:
            key = next(iter(feeds[mt]))
            feeds[mt][key].insert(0, record)
        self.server.feeds = feeds
        self.server.texts = self.texts

    def step(self, run: int) -> list[str]:
        """Change the upstream before run ``run``; what changed, in words."""
        changes = []
        if run % 4 == 0:
            for _ in range(self.rng.choice((1, 2))):
                if self.shown >= len(self.pool):
                    self._add_copy()
                self.shown += 1
                changes.append(f"new {self.code(self.pool[self.shown - 1][1])}")
        if run % 9 == 5:
            candidates = [r for _, r in self.pool[: self.shown] if self.code(r) not in self.corrected]
            if candidates:
                record = self.rng.choice(candidates)
                changes.append(f"corrected {self._correct(record)}")
        self._publish()
        return changes

    def _add_copy(self) -> None:
        self.copies += 1
        mt, original = self.pool[self.copies % 34]
        record = copy.deepcopy(original)
        code = f"NW20211224{self.copies:010d}"
        record["infoCode" if "infoCode" in record else "infocode"] = code
        record["title"] = f"{record['title']}（续{self.copies}）"
        self.texts[code] = copy.deepcopy(self.texts[self.code(original)])
        self.pool.append((mt, record))

    def _correct(self, record: dict) -> str:
        """A new title and body for an article (in every feed that lists it)."""
        code = self.code(record)
        self.corrected[code] = record["title"]
        for _, same in self.pool:
            if self.code(same) == code:
                same["title"] = self.corrected[code] + "（更正）"
        text = self.texts[code]
        field_name = "text" if "text" in text else "content"
        text[field_name] = text[field_name] + "<p>更正：本文此前版本有误，现已更正。</p>"
        return code

    def listed(self, paper: str | None) -> dict[str, str]:
        """infoCode -> title of every article the feeds list now (of ``paper``, or all)."""
        out = {}
        for _, record in self.pool[: self.shown]:
            name = record.get("medianame") or record.get("from")
            if paper is None or name == paper:
                out[self.code(record)] = record["title"]
        return out


# -- one run ---------------------------------------------------------------------------------
@dataclass
class Report:
    runs: int = 0
    faults: Counter = field(default_factory=Counter)
    kills: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    exits: Counter = field(default_factory=Counter)
    overlaps: int = 0
    changes: int = 0
    dishonest: list[str] = field(default_factory=list)
    final: str = ""
    wall: float = 0.0

    def lines(self) -> list[str]:
        return [
            f"runs: {self.runs} (overlapping pairs: {self.overlaps}; upstream changes: {self.changes})",
            "faults injected: " + ", ".join(f"{k}={self.faults[k]}" for k in FAULTS),
            "kills: " + ", ".join(f"{k}={v}" for k, v in sorted(self.kills.items())),
            "statuses: " + ", ".join(f"{k}={v}" for k, v in sorted(self.statuses.items())),
            "exit statuses: " + ", ".join(f"{k}={v}" for k, v in sorted(self.exits.items())),
            f"dishonest exits: {len(self.dishonest)}",
            *(f"  {d}" for d in self.dishonest[:20]),
            f"final archive: {self.final}",
            f"wall time: {self.wall:.0f} s",
        ]


def command(spider: str, data: Path, urls: dict) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-s", f"FINEWS_DATA_DIR={data}"]
    for key, value in {**SOAK_SETTINGS, **urls}.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def lock_taken(data: Path, spider: str) -> bool:
    lock = data / ".locks" / f"{spider}.lock"
    try:
        return b"pid" in lock.read_bytes()
    except OSError:
        return False


class Soak:
    def __init__(self, runs: int, seed: int, work: Path, log=print):
        self.rng = random.Random(seed)
        self.runs, self.work, self.log = runs, work, log
        self.data = work / "data"
        self.up = EvolvingUpstream(self.rng)
        self.report = Report()

    def inject(self) -> bool:
        """Faults for the next run; True when the upstream is to be down."""
        server = self.up.server
        server.faults.clear()
        if self.rng.random() < 0.45:
            return False
        kind = self.rng.choice(FAULTS)
        self.report.faults[kind] += 1
        if kind == "down":
            return True
        newest = [self.up.code(r) for _, r in self.up.pool[max(0, self.up.shown - 4) : self.up.shown]]
        keys = [f"feed:{mt}" for mt in server.feeds] + [f"text:{c}" for c in newest]
        action = int(kind) if kind.isdigit() else kind
        for key in self.rng.sample(keys, self.rng.choice((1, 2))):
            server.faults[key] = [action] * self.rng.choice((1, 1, 2, 3))
        return False

    def one(self, n: int) -> None:
        self.report.changes += len(self.up.step(n))
        down = self.inject()
        urls = self.up.server.settings()
        if down:
            port = urls["FINEWS_FEED_URL"].split(":")[2].split("/")[0]
            urls = {k: v.replace(f":{port}/", f":{closed_port()}/") for k, v in urls.items()}
        listed = {s: self.up.listed(p) for s, p in SPIDER_PAPER.items()}
        spiders = ["finews"]
        overlap = self.rng.random() < 0.08
        if overlap:
            spiders.append(self.rng.choice(("finews", "shanxiwanbao")))
            self.report.overlaps += 1
        before = len(crawl_rows(self.data))
        procs = []
        for spider in spiders:
            procs.append(
                (
                    spider,
                    subprocess.Popen(
                        command(spider, self.data, urls),
                        cwd=ROOT,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        text=True,
                    ),
                )
            )
            if overlap:
                time.sleep(self.rng.uniform(0, 0.5))
        kill = self.rng.random()
        spider, target = procs[0]
        killed = None
        if kill < 0.06:
            time.sleep(self.rng.uniform(0.3, 2.5))
            target.send_signal(signal.SIGKILL)
            killed = "SIGKILL"
        elif kill < 0.14:
            deadline = time.monotonic() + 10
            while not lock_taken(self.data, spider) and target.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(self.rng.uniform(0, 0.8))
            times = 2 if self.rng.random() < 0.3 else 1
            for _ in range(times):
                target.send_signal(signal.SIGINT)
                time.sleep(0.05)
            killed = f"SIGINT x{times}"
        results = []
        for spider, proc in procs:
            try:
                _, err = proc.communicate(timeout=180)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
                self.report.dishonest.append(f"run {n} {spider}: hung for 180 s")
                continue
            results.append((spider, proc, err))
        if killed:
            self.report.kills[killed] += 1
        self.report.runs += len(procs)
        self.judge(n, results, before, killed, listed, urls)

    def judge(self, n, results, before, killed, listed, urls) -> None:
        rows_now = crawl_rows(self.data)
        added = rows_now[before:]
        for i, (spider, proc, err) in enumerate(results):
            code = proc.returncode
            self.report.exits[code] += 1
            where = f"run {n} {spider} (exit {code}{', ' + killed if killed and i == 0 else ''})"
            if killed == "SIGKILL" and i == 0:
                if "run summary:" not in err:
                    continue  # a killed run gives no verdict
            if "run summary:" not in err:
                if killed and i == 0 and code != 0 and "KeyboardInterrupt" in err:
                    self.report.statuses["interrupted before start"] += 1
                    continue
                self.report.dishonest.append(f"{where}: no summary line: {err.strip().splitlines()[-1:]}")
                continue
            try:
                # Each run is checked against the rows added while it ran: its own is among them.
                # A run SIGKILLed after its verdict exits -9 whatever it decided: the kernel's
                # status, not the run's; its summary line and crawls row must still agree.
                mine = [r for r in added if r["spider"] == spider]
                v = _verdict_among(None if code == -signal.SIGKILL else code, err, mine)
            except AssertionError as exc:
                self.report.dishonest.append(f"{where}: {str(exc).splitlines()[0][:300]}")
                continue
            self.report.statuses[v] += 1
            if code == 0:
                missing = self.missing(listed[spider])
                if missing:
                    self.report.dishonest.append(f"{where}: exit 0 but not archived: {missing[:5]}")

    def missing(self, listed: dict[str, str]) -> list[str]:
        """The listed articles that are not archived as listed (row with the title, and a post)."""
        try:
            conn = sqlite3.connect(self.data / "finews.db")
            have = dict(conn.execute("SELECT info_code, title FROM articles"))
            conn.close()
        except sqlite3.Error as exc:
            return [f"database: {exc}"]
        post_codes = {p.stem.split("-", 3)[3] for p in (self.data / "_posts").glob("*.md")}
        return [c for c, t in listed.items() if have.get(c) != t or c not in post_codes]

    def final(self) -> None:
        """One clean run, then a fault-free crawl of the final upstream to compare with."""
        self.up.server.faults.clear()
        urls = self.up.server.settings()
        before = len(crawl_rows(self.data))
        result = subprocess.run(
            command("finews", self.data, urls), cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        self.report.runs += 1
        try:
            v = verdict(result.returncode, result.stderr, self.data, before)
            assert v.status == "ok" and v.exit == 0, f"the final clean run: {v}"
        except AssertionError as exc:
            self.report.final = f"DIFFERENT: {exc}"
            return
        reference = self.work / "reference"
        ref = subprocess.run(command("finews", reference, urls), cwd=ROOT, capture_output=True, text=True, timeout=300)
        if ref.returncode != 0:
            self.report.final = f"DIFFERENT: the fault-free crawl failed: {ref.stderr[-500:]}"
            return
        ours, theirs = archive_state(self.data), archive_state(reference)
        problems = [what for what, a, b in zip(("posts", "articles", "newspapers"), ours, theirs) if a != b]
        if ours[0] != theirs[0]:
            problems.append(
                f"posts differ: {sorted(set(ours[0]) ^ set(theirs[0]))[:5]} "
                f"{[k for k in ours[0] if k in theirs[0] and ours[0][k] != theirs[0][k]][:5]}"
            )
        problems += self.revision_problems()
        self.report.final = (
            "equal to a fault-free crawl of the final upstream (posts byte for byte; "
            f"articles {len(ours[1])}, newspapers, revisions {self._revisions_count()} checked)"
            if not problems
            else "DIFFERENT: " + "; ".join(problems)
        )

    def _revisions_count(self) -> int:
        conn = sqlite3.connect(self.data / "finews.db")
        try:
            return conn.execute("SELECT count(*) FROM revisions").fetchone()[0]
        finally:
            conn.close()

    def revision_problems(self) -> list[str]:
        """Each revision is the version of a corrected article from before its correction:
        its title then, and a body other than the current one; at most one per correction."""
        conn = sqlite3.connect(self.data / "finews.db")
        try:
            revisions = conn.execute(
                "SELECT r.info_code, r.title, r.content_hash = a.content_hash FROM revisions r "
                "JOIN articles a USING (info_code)"
            ).fetchall()
            total = conn.execute("SELECT count(*) FROM revisions").fetchone()[0]
        finally:
            conn.close()
        problems = [] if total == len(revisions) else [f"{total - len(revisions)} revisions of no article"]
        for code, title, same_body in revisions:
            if self.up.corrected.get(code) != title or same_body:
                problems.append(f"revision of {code} ({title}) is not the version served before a correction")
        per_code = Counter(code for code, _, _ in revisions)
        problems += [f"{code} has {k} revisions for one correction" for code, k in per_code.items() if k > 1]
        return problems

    def go(self) -> Report:
        started = time.monotonic()
        self.up.server.start()
        self.up.server.server.handle_error = lambda *args: None  # resets and timeouts are the point here
        try:
            for n in range(1, self.runs + 1):
                self.one(n)
                if n % 50 == 0:
                    self.log(f"… {n} runs, {len(self.report.dishonest)} dishonest, {time.monotonic() - started:.0f} s")
            self.final()
        finally:
            self.up.server.stop()
        self.report.wall = time.monotonic() - started
        return self.report


def _verdict_among(code: int | None, stderr: str, rows_of_spider: list[dict]) -> str:
    """The status of a run's summary line, after asserting that its exit status agrees
    with it and that a ``crawls`` row of this spider added during the run says the same
    (overlapping runs of one spider each add their own; a locked run adds none)."""
    lines = [line for line in stderr.splitlines() if "run summary:" in line]
    assert len(lines) == 1, f"{len(lines)} summary lines"
    status = re.search(r" status=(\w+) ", lines[0])[1]
    figures = parse_summary(lines[0])
    assert figures is not None, lines[0]
    assert code is None or code in EXITS[status], f"exit {code} with status={status}: {lines[0]}"
    if status in ("ok", "failed", "usage"):
        match = [r for r in rows_of_spider if r["status"] == status and {k: r[k] for k in run_figures({})} == figures]
        assert match, f"no crawls row agrees with {lines[0]}"
    return status


def soak(runs: int, seed: int, work: Path, log=print) -> Report:
    return Soak(runs, seed, work, log).go()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--tiny", action="store_true", help="toy sizes, in seconds: checks the script runs")
    args = parser.parse_args(argv)
    if args.tiny:
        args.runs = 3
    work = Path(tempfile.mkdtemp(prefix="finews-soak-"))
    try:
        report = soak(args.runs, args.seed, work, log=lambda s: print(s, flush=True))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("\n".join(report.lines()))
    return 0 if not report.dishonest and report.final.startswith("equal") else 1


if __name__ == "__main__":
    sys.exit(main())
