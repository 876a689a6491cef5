"""``scrapy serve``: the server stops with the command (SIGTERM, SIGHUP, Ctrl-C) and frees
its port, a port in use is one clear line and exit 1, bad settings exit 2, and an archive
on a read-only file system is served (Datasette's immutable mode)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from finews_spider.api import DEFAULT_METADATA, datasette_args, needs_immutable, port_in_use
from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # every test here starts processes (docs/testing.md)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def wait_until_serving(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited {process.returncode}: {process.stderr.read()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server never answered")


def serve_command(data_dir: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "scrapy", "serve", "--port", str(port), "-s", f"FINEWS_DATA_DIR={data_dir}"]


def _default_sighup() -> None:
    # A test runner started under nohup passes SIGHUP on as ignored, and then so would the
    # server (as an operator's `nohup scrapy serve` wants): the test needs the default.
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def start_serve(data_dir: Path, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        serve_command(data_dir, port),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sighup,
    )


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_the_server_stops_with_the_command_and_frees_the_port(sample_archive, sig):
    port = free_port()
    process = start_serve(sample_archive, port)
    try:
        wait_until_serving(port, process)
        assert children(process.pid) == []  # the command is the server: no child to leave behind
        status, body = get(f"http://127.0.0.1:{port}/finews/articles.json?_shape=array&_size=1")
        assert status == 200 and len(json.loads(body)) == 1
        process.send_signal(sig)
        process.wait(15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = process.stderr.read()
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr[-2000:]
    assert not listening(port)
    # the port is usable again at once: a second serve starts on it
    again = start_serve(sample_archive, port)
    try:
        wait_until_serving(port, again)
    finally:
        again.terminate()
        again.wait(15)


def test_a_port_in_use_is_one_clear_line_and_exit_1(sample_archive):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert port_in_use("127.0.0.1", port)
        result = subprocess.run(
            serve_command(sample_archive, port), cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"scrapy serve: port {port} on 127.0.0.1 is already in use (another scrapy serve?); choose another with --port"
    )
    assert "Traceback" not in result.stderr
    assert port_in_use("127.0.0.1", free_port()) is None


def test_bad_settings_and_a_missing_archive(tmp_path):
    bad = subprocess.run(
        serve_command(tmp_path, free_port()) + ["-s", "FINEWS_DB_NAME=../x.db"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "FINEWS_DB_NAME='../x.db': accepts a file name" in bad.stderr
    missing = subprocess.run(serve_command(tmp_path, free_port()), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and f"no archive at {tmp_path / 'finews.db'}: run a crawl first" in missing.stderr


def test_the_immutable_decision(tmp_path):
    db = tmp_path / "finews.db"
    db.write_bytes(b"")
    assert needs_immutable(db) is False
    args = datasette_args(db, tmp_path / "none.yml", immutable=True)
    assert args[args.index("serve") + 1 : args.index("serve") + 3] == ["-i", str(db)]
    assert str(db) in datasette_args(db, tmp_path / "none.yml") and "-i" not in datasette_args(
        db, tmp_path / "none.yml"
    )
    if os.geteuid() != 0:  # root may write whatever the mode bits say: proven on a read-only mount below
        db.chmod(0o444)
        assert needs_immutable(db) is True
        db.chmod(0o644)
        tmp_path.chmod(0o555)
        try:
            assert needs_immutable(db) is True
        finally:
            tmp_path.chmod(0o755)


def can_mount_read_only() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt && mount -o remount,ro /mnt"], capture_output=True
    )
    return probe.returncode == 0


READ_ONLY_SERVE = """
set -e
mount -t tmpfs tmpfs "$RO"
cp -a "$SRC"/. "$RO"/
mount -o remount,ro "$RO"
if touch "$RO/probe" 2>/dev/null; then echo "not read-only" >&2; exit 9; fi
ls -a "$RO/data" >&2
exec "$@"
"""


@pytest.mark.skipif(not can_mount_read_only(), reason="no private mount namespace here (unshare -rm)")
@pytest.mark.parametrize("how", ["scrapy serve", "plain datasette"])
def test_an_archive_on_a_read_only_file_system_is_served(sample_archive, tmp_path, how):
    """A private mount namespace (``unshare -rm``) holds a read-only tmpfs with a copy of
    the archive (a WAL database); ``scrapy serve`` serves it, plain ``datasette serve``
    of the same file cannot (which is what makes this test able to fail)."""
    mount_point = tmp_path / "ro"
    mount_point.mkdir()
    port = free_port()
    data = mount_point / "data"
    if how == "scrapy serve":
        command = serve_command(data, port)
    else:
        command = datasette_args(data / "finews.db", DEFAULT_METADATA, port=port)
    copy = tmp_path / "src" / "data"
    copy.mkdir(parents=True)
    for name in ("finews.db", "metadata.yml"):  # a cleanly closed archive: no -wal or -shm file
        shutil.copy2(sample_archive / name, copy / name)
    env = dict(os.environ, RO=str(mount_point), SRC=str(copy.parent), PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        ["unshare", "-rm", "sh", "-c", READ_ONLY_SERVE, "sh", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        if how == "plain datasette":
            process.wait(60)
            assert process.returncode != 0
            assert "unable to open database file" in process.stderr.read()
            return
        wait_until_serving(port, process)
        status, body = get(f"http://127.0.0.1:{port}/finews/articles.json?_shape=array&_size=max&_col=info_code")
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(15)
    assert status == 200, body[:500]
    assert len(json.loads(body)) == 34
    assert "serving it immutable (datasette -i)" in process.stderr.read()
