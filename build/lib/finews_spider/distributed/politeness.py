"""Politeness for the fleet: per-host concurrency and delay bound all workers together.

Every request to an upstream host first takes a **lease** of that host's semaphore in
Redis: a sorted set ``finews:fleet:host:<host>`` of lease ids scored by their expiry,
holding at most ``FINEWS_FLEET_CONCURRENCY_PER_HOST`` live leases. A lease is also
refused until the host's last grant (``finews:fleet:next:<host>``, by any worker) is at
least the asking worker's **delay** old: its current download-slot delay (what
AutoThrottle has made of it, or ``DOWNLOAD_DELAY``), and never less than
``FINEWS_FLEET_DELAY``. So N workers together are spaced as one machine with that delay
would space its requests, whichever workers send them: adding machines adds no load on
the upstream. Taking is one Lua script (atomic in Redis, clocked by Redis' own ``TIME``,
so the workers' clocks do not matter); the lease is released when the response or the
failure comes back, and expires by itself (``DOWNLOAD_TIMEOUT`` + 30 s) if its worker
dies. Each worker's own Scrapy limits (``CONCURRENT_REQUESTS_PER_DOMAIN``, its slot's
delay) still apply within these bounds.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from ..asynctools import sleep
from ..config import config_for
from ..run import Stat
from . import PREFIX, connect

#: Request meta key, owned by :class:`FleetPolitenessMiddleware`: ``(host, lease id)`` of
#: the lease a request holds while it is downloaded.
LEASE = "finews_fleet_lease"

_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return -1
end
local delay = tonumber(ARGV[4])
local last = tonumber(redis.call('GET', KEYS[2]))
if delay > 0 and last then
  local wait = last + delay - now
  if wait > 0 then return wait end
end
redis.call('SET', KEYS[2], now, 'PX', math.max(tonumber(ARGV[3]), delay))
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 0
"""


class HostSemaphore:
    """The fleet-wide semaphore of upstream hosts (see the module)."""

    FULL_POLL_SECONDS = 0.02

    def __init__(self, server, capacity: int, delay_seconds: float, lease_seconds: float):
        self.server, self.capacity = server, capacity
        self.delay_ms, self.lease_ms = int(delay_seconds * 1000), int(lease_seconds * 1000)
        self.script = server.register_script(_TAKE)

    def try_take(self, host: str, lease: str, delay_seconds: float = 0.0) -> float:
        """0 when ``lease`` was granted, else the seconds to wait before trying again.
        Granted at least ``delay_seconds`` (and the fleet's floor) after the host's last
        grant to any worker."""
        delay_ms = max(self.delay_ms, int(delay_seconds * 1000))
        answer = self.script(
            keys=[f"{PREFIX}:fleet:host:{host}", f"{PREFIX}:fleet:next:{host}"],
            args=[lease, self.capacity, self.lease_ms, delay_ms],
        )
        if answer == 0:
            return 0.0
        return self.FULL_POLL_SECONDS if answer < 0 else answer / 1000

    def release(self, host: str, lease: str) -> None:
        self.server.zrem(f"{PREFIX}:fleet:host:{host}", lease)


class FleetPolitenessMiddleware:
    """Takes a lease of the request's host before it is downloaded, waiting (off any
    download slot) until one is free; releases it with the response or the failure.
    Counts ``finews/fleet/waits`` (requests that had to wait)."""

    def __init__(self, crawler, semaphore: HostSemaphore, start_delay: float = 0.0):
        self.crawler, self.semaphore, self.start_delay = crawler, semaphore, start_delay

    @classmethod
    def from_crawler(cls, crawler):
        config = config_for(crawler)
        settings = crawler.settings
        lease = settings.getfloat("DOWNLOAD_TIMEOUT") + 30
        start_delay = settings.getfloat("DOWNLOAD_DELAY")
        if settings.getbool("AUTOTHROTTLE_ENABLED"):
            start_delay = max(start_delay, settings.getfloat("AUTOTHROTTLE_START_DELAY"))
        return cls(
            crawler,
            HostSemaphore(connect(config.redis_url), config.fleet_concurrency_per_host, config.fleet_delay, lease),
            start_delay,
        )

    def slot_delay(self, request) -> float:
        """The delay of the download slot this request will go through: AutoThrottle's
        current one, or ``DOWNLOAD_DELAY``; for a slot not made yet, the one it will start
        with."""
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        return self.start_delay if slot is None else slot.delay

    async def process_request(self, request, spider=None):
        host = urlsplit(request.url).hostname or ""
        lease = uuid.uuid4().hex
        waited = False
        while (wait := self.semaphore.try_take(host, lease, self.slot_delay(request))) > 0:
            waited = True
            await sleep(wait)
        if waited:
            self.crawler.stats.inc_value(Stat.FLEET_WAITS)
        request.meta[LEASE] = (host, lease)
        return None

    def _release(self, request) -> None:
        held = request.meta.pop(LEASE, None)
        if held is not None:
            self.semaphore.release(*held)

    def process_response(self, request, response, spider=None):
        self._release(request)
        return response

    def process_exception(self, request, exception, spider=None):
        self._release(request)
        return None
