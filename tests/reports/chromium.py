"""Headless Chromium driven over the DevTools protocol (a websocket), for page tests.

`open_page` starts ``chromium --headless`` with a throwaway profile, loads a URL in a new
tab, waits for its load event and returns what a test needs: the console errors and
uncaught exceptions, the value of an expression, and a PNG screenshot.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import websockets

STARTUP_S: Final = 30.0
"""Upper bound for Chromium to start and the page to load; a healthy run takes ~1 s."""
_LISTENING: Final = re.compile(r"DevTools listening on (ws://\S+)")


def chromium_binary() -> str | None:
    """Return the path of the ``chromium`` binary, or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageResult:
    """What happened while a page loaded."""

    errors: list[str] = field(default_factory=list)
    """Console errors, failed assertions, uncaught exceptions and error log entries."""
    value: Any = None
    """The value of the expression evaluated after the load."""
    screenshot: bytes = b""


def _start(binary: str, profile: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--user-data-dir={profile}",
            "--window-size=1280,1600",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        match = _LISTENING.search(line)
        if match:
            return process, match.group(1)
    process.kill()
    process.wait()
    raise RuntimeError(f"chromium exited ({process.returncode}) without a DevTools endpoint")


class _Session:
    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    async def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        ident = next(self.ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        await self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(await self.socket.recv())
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method} failed: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    async def until(self, method: str) -> None:
        if any(e.get("method") == method for e in self.events):
            return
        while True:
            event = json.loads(await self.socket.recv())
            self.events.append(event)
            if event.get("method") == method:
                return


def _errors(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
            found.append(" ".join(str(a.get("value", a)) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            found.append(str(params.get("exceptionDetails", {}).get("text", params)))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            found.append(str(params["entry"].get("text", "")))
    return found


async def _drive(endpoint: str, url: str, expression: str) -> PageResult:
    async with websockets.connect(endpoint, max_size=None) as socket:
        cdp = _Session(socket)
        target = (await cdp.call("Target.createTarget", {"url": "about:blank"}))["targetId"]
        attached = await cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            await cdp.call(f"{domain}.enable", session=session)
        await cdp.call("Page.navigate", {"url": url}, session=session)
        await cdp.until("Page.loadEventFired")
        evaluated = await cdp.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session
        )
        shot = await cdp.call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True},
            session=session,
        )
        return PageResult(
            errors=_errors(cdp.events),
            value=evaluated.get("result", {}).get("value"),
            screenshot=base64.b64decode(shot["data"]),
        )


def open_page(binary: str, url: str, expression: str = "null") -> PageResult:
    """Load ``url`` in headless Chromium; return its errors, ``expression`` and a screenshot."""
    # Chromium's helper processes may still write to the profile as it goes: its
    # removal is best effort, not part of what a test checks.
    with tempfile.TemporaryDirectory(
        prefix="alphintra-chromium-", ignore_cleanup_errors=True
    ) as profile:
        process, endpoint = _start(binary, Path(profile))
        try:
            return asyncio.run(asyncio.wait_for(_drive(endpoint, url, expression), STARTUP_S))
        finally:
            process.terminate()
            try:
                process.wait(timeout=STARTUP_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
