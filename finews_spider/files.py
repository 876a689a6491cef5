"""Safe file writes, for every command: atomic replacement (:func:`write_atomic` for bytes,
:func:`atomic_output` for a stream), one flush for many files (:func:`sync_filesystem`),
and the clean-up of what killed runs leave behind (:func:`remove_stale_temporaries`).

Every temporary file is named ``.<name>[.t<thread>].<pid>.tmp`` beside its target, and
removed when its write fails, so a failed write leaves nothing behind and a killed one
leaves a file the next start can recognise as stale."""

from __future__ import annotations

import ctypes
import os
import stat
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .exceptions import OutputRefused


def write_atomic(path: Path, data: str | bytes, fsync: bool = True, *, absent: bool = False) -> bool:
    """Write ``data`` to ``path`` through a temporary file and a rename, so a reader (or a
    run killed half-way) never sees a partial file. Returns False when the file already
    held exactly these bytes (nothing written); ``absent`` says the caller knows there is
    no such file, so it is not read first. Its folder is made when missing.

    With ``fsync=False`` the data is not flushed to disk here: the caller must call
    :func:`sync_filesystem` before it records the file as written anywhere else."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not absent and holds(path, data):
        return False
    tmp = temporary_name(path)
    try:
        try:
            f = open(tmp, "wb")
        except FileNotFoundError:  # the folder is not there yet (checked only then: a post is one of thousands)
            path.parent.mkdir(parents=True, exist_ok=True)
            f = open(tmp, "wb")
        with f:
            f.write(data)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half-written temporary behind
        raise
    return True


def holds(path: Path, data: bytes) -> bool:
    """Whether ``path`` holds exactly ``data`` (reading at most one byte more than it)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(data) + 1) == data
    except (FileNotFoundError, NotADirectoryError):
        return False


def temporary_name(path: Path) -> Path:
    """The temporary file of a write of ``path``: one name per process and thread (the
    pid stays second to last: see :func:`remove_stale_temporaries`), so threads writing
    the same file never share one."""
    thread = "" if threading.current_thread() is threading.main_thread() else f".t{threading.get_ident()}"
    return path.with_name(f".{path.name}{thread}.{os.getpid()}.tmp")


def _is_stdout(path: Path) -> bool:
    """Whether ``path`` is this process's standard output (``/dev/stdout``, ``/dev/fd/1``,
    or the very file or pipe stdout is)."""
    try:
        return os.path.samestat(os.stat(path), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError):
        return False


def output_kind(out: str | Path, protected: Iterable[Path] = ()) -> str:
    """How a command may write ``out``, or :class:`OutputRefused` saying why not. A
    command writes only:

    - ``"stdout"``: ``-``, or a path that is its standard output (``/dev/stdout``);
    - ``"device"``: a character device (``/dev/null``, a terminal), written through,
      never replaced;
    - ``"file"``: a new file, or a regular file it is asked to replace (through a
      symbolic link: the file it points to), replaced atomically.

    Anything else is refused: a directory, a FIFO, a socket, a block device, a path
    whose folder does not exist, and any path that is or lies inside one of
    ``protected`` (the archive's own files and folders), however it is spelled
    (links, ``..``)."""
    if str(out) == "-":
        return "stdout"
    path = Path(out)
    if _is_stdout(path):
        return "stdout"
    target = path.resolve()
    for own in protected:
        own = Path(own).resolve()
        if target == own or target.is_relative_to(own):
            raise OutputRefused(f"{out} is the archive's own ({own}): choose another output")
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise OutputRefused(f"{out}: no such folder ({target.parent})") from None
        return "file"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISCHR(mode):
        return "device"
    what = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "not a regular file"
    raise OutputRefused(f"{out} is {what}: give a file name (or - for stdout)")


def check_site_folder(folder: str | Path, protected: Iterable[Path] = ()) -> None:
    """:class:`OutputRefused` when ``folder`` may not hold a generated site: ``/``, the
    home folder, or one of ``protected`` (the archive's own folders) or a folder inside
    them."""
    target = Path(folder).resolve()
    if target == Path("/").resolve() or target == Path.home().resolve():
        raise OutputRefused(
            f"{folder} is {'/' if target == Path('/').resolve() else 'the home folder'}: "
            "build the site into a folder of its own"
        )
    for own in protected:
        own = Path(own).resolve()
        if target == own or target.is_relative_to(own):
            raise OutputRefused(f"{folder} is the archive's own ({own}): build the site into a folder of its own")


@contextmanager
def atomic_output(out: str | Path, protected: Iterable[Path] = ()) -> Iterator[IO[str]]:
    """A text stream (UTF-8) for ``out``, as :func:`output_kind` allows it: stdout; a
    character device written through; else a temporary file beside the (link-resolved)
    target, flushed and renamed to it when the block ends without error, and removed when
    it fails: a failed write never leaves a file behind, nor a half-written one."""
    kind = output_kind(out, protected)
    if kind == "stdout":
        yield sys.stdout
        sys.stdout.flush()
        return
    if kind == "device":
        with open(out, "w", encoding="utf-8", newline="") as device:
            yield device
        return
    path = Path(out).resolve()
    tmp = temporary_name(path)
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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


def remove_stale_temporaries(folders: list[Path]) -> list[Path]:
    """Remove the temporary files (``.<name>.<pid>.tmp``) of runs that were killed (their
    process is gone) from ``folders`` (not recursively: warc/ and _site/ can be big)."""
    removed = []
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
