"""Awaiting Twisted from coroutines: a sleep and a call in a thread, on the running reactor.

The reactor is imported when first needed, never at import time: importing
``twisted.internet.reactor`` installs the default one, and Scrapy's commands import the
project's modules before Scrapy installs the reactor its settings ask for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread


def reactor():
    """The running (installed) reactor."""
    from twisted.internet import reactor as installed

    return installed


async def sleep(seconds: float) -> None:
    """Wait ``seconds`` without holding the reactor."""
    await maybe_deferred_to_future(deferLater(reactor(), seconds, lambda: None))


async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in the reactor's thread pool (for blocking calls: Redis, files)."""
    return await maybe_deferred_to_future(deferToThread(fn, *args))
