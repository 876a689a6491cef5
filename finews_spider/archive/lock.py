"""One run per spider and data directory at a time: the archive holds this lock."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from ..exceptions import LockHeld

logger = logging.getLogger(__name__)

EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later


class RunLock:
    """Holds ``<FINEWS_DATA_DIR>/.locks/<name>.lock`` (``flock``) for the whole run.

    The kernel releases the lock when its process dies, however it dies, so a lock left
    by a killed run is simply taken over (and said so). A second run while the first is
    alive raises :class:`LockHeld` before the engine starts: nothing is fetched or
    written, and ``scrapy crawl`` exits with status 75."""

    def __init__(self, path: Path, spider_name: str):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self.fd: int | None = fd  # None once released
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read(fd)
            os.close(fd)
            raise LockHeld(
                f"another '{spider_name}' run holds {path}: pid {holder.get('pid')} on {holder.get('host')} "
                f"since {holder.get('started_at')}"
            ) from None
        previous = self._read(fd)
        if previous.get("pid"):
            logger.warning("taking over the lock of an earlier run that ended without releasing it: %s", previous)
        self._write(
            fd,
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )

    @staticmethod
    def _read(fd: int) -> dict:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            return json.loads(os.read(fd, 4096) or b"{}")
        except (OSError, ValueError):
            return {}

    @staticmethod
    def _write(fd: int, data: dict) -> None:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(data).encode())

    def release(self) -> None:
        fd = self.fd
        if fd is not None:
            self._write(fd, {})
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            self.fd = None
