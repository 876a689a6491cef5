"""A page in headless Chromium, driven over the DevTools protocol (aiohttp's websocket
client, no extra library): load a URL in a window of a given size, wait until a
JavaScript condition holds, evaluate expressions, take a screenshot, and collect every
console message, uncaught exception and browser log entry (failed requests included)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp


@dataclass
class PageReport:
    values: dict = field(default_factory=dict)  # expression -> its value
    console: list = field(default_factory=list)  # (level, text), in order
    screenshot: bytes = b""
    ready: bool = False  # the wait condition held before the timeout

    def problems(self) -> list:
        """Errors and warnings: console.error/warn, uncaught exceptions, log entries
        (network failures, CSP, …) of level error or warning."""
        return [(level, text) for level, text in self.console if level in ("error", "warning", "warn", "exception")]


def inspect_page(
    chromium: str,
    url: str,
    profile: Path,
    *,
    expressions: list[str] = (),
    wait_for: str = "true",
    timeout: float = 30,
    size: tuple[int, int] = (1280, 900),
    full_page: bool = False,
) -> PageReport:
    """Open ``url`` in a fresh headless Chromium (profile folder ``profile``) and report;
    the screenshot is of the window, or with ``full_page`` of the whole page."""
    proc = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        return asyncio.run(_inspect(port, url, list(expressions), wait_for, timeout, size, full_page))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def _inspect(port, url, expressions, wait_for, timeout, size, full_page=False) -> PageReport:
    report = PageReport()
    ids = itertools.count(1)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json(content_type=None)
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        async with session.ws_connect(ws_url, max_msg_size=0) as ws:
            pending: dict[int, asyncio.Future] = {}
            loaded = asyncio.Event()

            async def reader():
                async for message in ws:
                    data = json.loads(message.data)
                    if "id" in data and data["id"] in pending:
                        pending.pop(data["id"]).set_result(data)
                    method, params = data.get("method"), data.get("params", {})
                    if method == "Runtime.consoleAPICalled":
                        text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                        report.console.append((params.get("type"), text))
                    elif method == "Runtime.exceptionThrown":
                        details = params.get("exceptionDetails", {})
                        report.console.append(
                            ("exception", details.get("exception", {}).get("description") or details.get("text"))
                        )
                    elif method == "Log.entryAdded":
                        entry = params.get("entry", {})
                        report.console.append(
                            (entry.get("level"), f"{entry.get('text')} {entry.get('url', '')}".strip())
                        )
                    elif method == "Page.loadEventFired":
                        loaded.set()

            task = asyncio.create_task(reader())

            async def call(method, **params):
                future = asyncio.get_running_loop().create_future()
                message_id = next(ids)
                pending[message_id] = future
                await ws.send_str(json.dumps({"id": message_id, "method": method, "params": params}))
                result = await asyncio.wait_for(future, timeout)
                if "error" in result:
                    raise RuntimeError(f"{method}: {result['error']}")
                return result.get("result", {})

            async def evaluate(expression):
                result = await call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
                return result.get("result", {}).get("value")

            for domain in ("Runtime", "Log", "Page"):
                await call(f"{domain}.enable")
            await call(
                "Emulation.setDeviceMetricsOverride", width=size[0], height=size[1], deviceScaleFactor=1, mobile=False
            )
            await call("Page.navigate", url=url)
            await asyncio.wait_for(loaded.wait(), timeout)
            deadline = time.monotonic() + timeout
            while True:
                report.ready = bool(await evaluate(wait_for))
                if report.ready or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.5)  # late console messages
            for expression in expressions:
                report.values[expression] = await evaluate(expression)
            if full_page:
                content = (await call("Page.getLayoutMetrics"))["cssContentSize"]
                clip = {"x": 0, "y": 0, "width": size[0], "height": content["height"], "scale": 1}
                shot = await call("Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip)
            else:
                shot = await call("Page.captureScreenshot", format="png")
            report.screenshot = base64.b64decode(shot["data"])
            task.cancel()
    return report
