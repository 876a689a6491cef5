"""WARC files of the raw upstream exchanges (warcio, the Webrecorder library).

Writing: :class:`WarcWriter` appends a response record and its request record (linked
with ``WARC-Concurrent-To``) per exchange, gzip per record, flushed after every
exchange so a killed run leaves a file that is valid up to its last complete record.
Reading: :class:`WarcIndex` maps requests to the latest good captured response (replay,
and re-extraction, which is a crawl answered by replay), and lists the captured feeds and
article texts.
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qs, urlsplit

from scrapy import Request
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from w3lib.url import canonicalize_url
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from . import __version__
from .config import FinewsConfig

logger = logging.getLogger(__name__)

_LOADER = ArcWarcRecordLoader()

# Twisted has already removed the chunking: keep the header under another name (as
# pywb does) so the payload is not read as chunked again.
_RENAMED_HEADERS = {"transfer-encoding": "X-Archive-Orig-Transfer-Encoding"}


def _decode_headers(headers) -> list[tuple[str, str]]:
    out = []
    for key, values in headers.items():
        name = key.decode("latin-1")
        name = _RENAMED_HEADERS.get(name.lower(), name)
        for value in values:
            out.append((name, value.decode("latin-1")))
    return out


class WarcWriter:
    """One spider run's WARC files: ``<dir>/<prefix>-<seq>.warc.gz``, rotated once a file
    passes ``max_bytes``; each file starts with a ``warcinfo`` record."""

    def __init__(self, directory: Path, prefix: str, info: dict, max_bytes: int):
        self.directory, self.prefix, self.info, self.max_bytes = Path(directory), prefix, info, max_bytes
        self.seq = 0
        self.file: BinaryIO | None = None  # both set while a file is open
        self.writer: WARCWriter | None = None
        self.buffer = io.BytesIO()
        self.paths: list[Path] = []

    def _open(self) -> WARCWriter:
        self.close()
        self.seq += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{self.prefix}-{self.seq:05d}.warc.gz"
        self.file = open(path, "ab")
        writer = self.writer = WARCWriter(self.buffer, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, self.info))
        self._flush()
        self.paths.append(path)
        return writer

    def _flush(self) -> None:
        # Records are built in memory and reach the file in one write, so a run killed at
        # any moment leaves only whole records behind.
        assert self.file is not None, "called with a file open"
        self.file.write(self.buffer.getvalue())
        self.file.flush()
        self.buffer.seek(0)
        self.buffer.truncate()

    def write_exchange(
        self,
        method: str,
        url: str,
        request_headers,
        request_body: bytes,
        status: int,
        response_headers,
        body: bytes,
        protocol: str = "HTTP/1.1",
        date: datetime | None = None,
    ) -> None:
        writer = self.writer
        if writer is None or self.file is None or self.file.tell() >= self.max_bytes:
            writer = self._open()
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        http_response = StatusAndHeaders(f"{status} {reason}", _decode_headers(response_headers), protocol=protocol)
        warc_date = {"WARC-Date": date.strftime("%Y-%m-%dT%H:%M:%SZ")} if date else None
        response = writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http_response, warc_headers_dict=warc_date
        )
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_headers = [("Host", parts.netloc)] + [
            (k, v) for k, v in _decode_headers(request_headers) if k.lower() != "host"
        ]
        http_request = StatusAndHeaders(f"{method} {target} {protocol}", request_headers, is_http_request=True)
        request = writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(request_body or b""),
            http_headers=http_request,
            warc_headers_dict={
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
                **(warc_date or {}),
            },
        )
        writer.write_record(response)
        writer.write_record(request)
        self._flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            self.file = self.writer = None


def warcinfo(settings, spider_name: str, config: FinewsConfig) -> dict:
    """The ``warcinfo`` record of a run: the software, the host, the spider, and the
    upstream settings the run used (as parsed)."""
    return {
        "software": f"finews-archive/{__version__} (Scrapy, warcio)",
        "format": "WARC File Format 1.0",
        "hostname": socket.gethostname(),
        "isPartOf": spider_name,
        "operator": settings.get("BOT_NAME"),
        "http-header-user-agent": settings.get("USER_AGENT"),
        "finews-settings": json.dumps(
            {
                "FINEWS_FEED_URL": config.feed_url,
                "FINEWS_TEXT_URL": config.text_url,
                "FINEWS_SHARE_URL": config.share_url,
                "FINEWS_FEED_COUNT": config.feed_count,
                "FINEWS_MARKET_TYPES": list(config.market_types),
            },
            ensure_ascii=False,
        ),
    }


def run_prefix(spider_name: str, started: datetime | None = None) -> str:
    """``finews-<spider>-<host>-<UTC time>-<pid>``: unique across the machines of a
    fleet, and in capture order by name on one machine."""
    started = started or datetime.now(UTC)
    host = "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in socket.gethostname())[:63] or "host"
    return f"finews-{spider_name}-{host}-{started:%Y%m%dT%H%M%S}-{os.getpid()}"


def warc_files(location: str | Path) -> list[Path]:
    """The WARC files at ``location`` (a file, or a folder searched recursively), in
    name order, which is capture order for files this project writes."""
    path = Path(location)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"no WARC file or folder at {location}")
    return sorted(p for p in path.rglob("*") if p.name.endswith((".warc.gz", ".warc")))


def url_key(method: str, url: str) -> str:
    """The replay key of a request: method, path and canonical query, whatever the scheme
    and host, so captures made against a test server or a mirror answer the same
    requests (the upstream's endpoints differ by path)."""
    parts = urlsplit(canonicalize_url(url))
    return f"{method.upper()} {parts.path or '/'}?{parts.query}"


def _pack(file_no: int, offset: int) -> int:
    """A capture's location as one integer (offsets below 2**40: a WARC file is rotated
    long before a terabyte)."""
    return file_no << 40 | offset


def _unpack(packed: int) -> tuple[int, int]:
    return packed >> 40, packed & (1 << 40) - 1


def is_good(captured: Captured) -> bool:
    """A capture worth replaying: a 2xx answer whose body is JSON (every endpoint of the
    upstream answers JSON)."""
    if not 200 <= captured.status < 300:
        return False
    try:
        json.loads(captured.body)
    except ValueError:
        return False
    return True


class Captured:
    """One captured response, as read back."""

    __slots__ = ("url", "status", "headers", "body", "date")

    def __init__(self, url: str, status: int, headers: list[tuple[str, str]], body: bytes, date: datetime | None):
        self.url, self.status, self.headers, self.body, self.date = url, status, headers, body, date

    def response(self, request: Request) -> Response:
        """This capture as the Scrapy response to ``request`` (of the class its headers call for)."""
        headers = Headers(self.headers)
        cls = responsetypes.from_args(headers=headers, url=request.url, body=self.body)
        return cls(url=request.url, status=self.status, headers=headers, body=self.body, request=request)


def _read_response(record, decoded: bool = False) -> Captured:
    status = int(record.http_headers.get_statuscode())
    skip = {"x-archive-orig-transfer-encoding"}
    if decoded:
        # content_stream() undoes Content-Encoding; then the header must go too.
        skip |= {"content-encoding", "content-length"}
        body = record.content_stream().read()
    else:
        body = record.raw_stream.read()  # exactly what was received
    headers = [(k, v) for k, v in record.http_headers.headers if k.lower() not in skip]
    date = record.rec_headers.get_header("WARC-Date")
    when = datetime.fromisoformat(date.replace("Z", "+00:00")) if date else None
    return Captured(record.rec_headers.get_header("WARC-Target-URI"), status, headers, body, when)


_GZIP_MEMBER = b"\x1f\x8b\x08"  # how every record of a .warc.gz starts (one gzip member each)


def iter_responses(paths: list[Path], damaged: list | None = None) -> Iterator[tuple[int, int, ArcWarcRecord]]:
    """(file number in ``paths``, offset, record) of every response record, in capture
    order, the record's body not read (read it with :func:`read_response`).

    A record that cannot be read is skipped, and reading goes on at the next record
    (the next gzip member): a damaged record in the middle of a file loses that record
    only, and is appended to ``damaged`` as ``(path, offset, error)``. A file cut short
    by a killed run (nothing readable after the damage) is read up to its last complete
    record, with a warning: that run never recorded the article whose record it was
    writing (the capture is part of the commit)."""
    for file_no, path in enumerate(paths):
        with open(path, "rb") as f:
            start: int | None = 0
            resyncing = False  # reading again after a damage: failing at once is the same damage
            while start is not None:
                f.seek(start)
                iterator = ArchiveIterator(f)
                read, records = start, 0  # the last record read began at ``read``
                try:
                    for record in iterator:
                        read, records = iterator.get_record_offset(), records + 1
                        if record.rec_type == "response" and record.http_headers is not None:
                            yield file_no, read, record
                    start = None
                except Exception as exc:
                    failing = _next_member(f, read + 1) if records else start  # the member that failed
                    start = None if failing is None else _next_member(f, failing + 1)
                    if resyncing and records == 0:
                        continue  # still inside the damage already counted
                    error = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
                    if start is None:  # the last record: a killed run's, cut short
                        logger.warning("%s: stopped reading at an incomplete last record (%s)", path, error)
                    else:
                        logger.warning("%s: a damaged record at offset %s skipped (%s)", path, failing, error)
                        if damaged is not None:
                            damaged.append((path, failing, error))
                    resyncing = True


def _next_member(f, offset: int, chunk: int = 1 << 20) -> int | None:
    """The offset of the next gzip member at or after ``offset`` in ``f``, or ``None``."""
    f.seek(offset)
    carry = b""
    while True:
        data = f.read(chunk)
        if not data:
            return None
        found = (carry + data).find(_GZIP_MEMBER)
        if found >= 0:
            return offset - len(carry) + found
        offset += len(data)
        carry = data[-2:]


def read_response(path: Path, offset: int, decoded: bool = False) -> Captured:
    """The response record at ``offset`` of ``path``; ``decoded`` undoes Content-Encoding."""
    with open(path, "rb") as f:
        f.seek(offset)
        # One record read where it starts, by a loader made once (an ArchiveIterator
        # would make a new one for every record).
        return _read_response(_LOADER.parse_record_stream(DecompressingBufferedReader(f)), decoded)


class WarcIndex:
    """For replay: request key (see :func:`url_key`) -> the latest good captured response
    (see :func:`is_good`), or the latest one when none is good; and, for re-extraction,
    every good captured feed response and the infoCodes of the captured article texts.

    Kept small and quick, since archives grow: the scan reads only record headers (the
    bodies of feeds excepted, which re-extraction reads anyway); the locations of every
    2xx capture of a URL are kept, and the body of the newest is checked when it is
    asked for, falling back to older ones. A URL captured once with a 2xx answer (every
    article, usually) is one packed location (see :func:`_pack`), about 30 bytes besides
    its key; any other URL (a feed captured on every run) a list: its latest capture,
    then its 2xx captures oldest first. ``keep_text(info_code)``, when given, says which
    article texts to index at all (a re-extraction worker's share); the others are
    skipped, and feeds are always kept."""

    def __init__(self, location: str | Path | list, keep_text: Callable[[str], bool] | None = None):
        locations = location if isinstance(location, list) else [location]
        self.paths = [p for loc in locations for p in warc_files(loc)]
        self.captures: dict[str, int | list[int]] = {}  # key -> location, or [latest, *2xx oldest first]
        self.feeds: list[tuple[int, int]] = []  # good feed captures, in capture order
        self.texts: set[str] = set()  # infoCodes with a 2xx text capture
        self.damaged: list[tuple[Path, int, str]] = []  # records that could not be read, skipped
        for file_no, offset, record in iter_responses(self.paths, self.damaged):
            url = record.rec_headers.get_header("WARC-Target-URI")
            query = parse_qs(urlsplit(url).query)
            feed = "marketType" in query
            code = None if feed or "id" not in query else query["id"][0]
            if code is not None and keep_text is not None and not keep_text(code):
                continue
            key = url_key("GET", url)
            here = _pack(file_no, offset)
            ok = 200 <= int(record.http_headers.get_statuscode()) < 300
            if ok and feed:
                ok = is_good(self.read((file_no, offset), decoded=True))
                if ok:
                    self.feeds.append((file_no, offset))
            elif ok and code is not None:
                self.texts.add(code)
            entry = self.captures.get(key)
            if entry is None:
                self.captures[key] = here if ok else [here]
                continue
            if isinstance(entry, int):
                entry = self.captures[key] = [entry, entry]
            entry[0] = here
            if ok:
                entry.append(here)

    def __len__(self) -> int:
        return len(self.captures)

    def get(self, method: str, url: str) -> Captured | None:
        """The newest good capture of the request, else its newest capture, else None."""
        entry = self.captures.get(url_key(method, url))
        if entry is None:
            return None
        if isinstance(entry, int) or (len(entry) == 2 and entry[1] == entry[0]):
            # Its only 2xx capture is its latest: the answer whether it is good or not (the
            # common case, every article captured once), so its body is not checked.
            return self.read(_unpack(entry if isinstance(entry, int) else entry[0]))
        for i in range(len(entry) - 1, 0, -1):
            location = _unpack(entry[i])
            captured = self.read(location)
            encoded = any(k.lower() == "content-encoding" for k, _ in captured.headers)
            if is_good(self.read(location, decoded=True) if encoded else captured):
                return captured
        return self.read(_unpack(entry[0]))

    def read(self, location: tuple[int, int], decoded: bool = False) -> Captured:
        """The capture at ``(file number, offset)``, as received (or ``decoded``)."""
        file_no, offset = location
        return read_response(self.paths[file_no], offset, decoded)

    def feed_url_of(self, location: tuple[int, int]) -> str:
        return self.read(location).url
