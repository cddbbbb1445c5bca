"""Alerts: to the log, the WebSocket ``alerts`` channel and a Slack-compatible webhook.

The webhook is posted from a background task with bounded retries and exponential
backoff, so a slow or failing receiver never blocks trading. Alerts that still fail
are logged with the reason; none is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import httpx
import structlog

log = structlog.get_logger("alphintra.alerts")


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert."""

    account_id: str
    kind: str
    message: str
    instrument_id: str | None = None

    def slack_payload(self) -> dict[str, str]:
        """Return the Slack-compatible JSON body."""
        where = f" {self.instrument_id}" if self.instrument_id else ""
        return {"text": f"[alphintra] {self.account_id}{where} {self.kind}: {self.message}"}


class WebhookSender:
    """Posts alerts to a webhook URL, retrying transient failures."""

    def __init__(
        self,
        url: str,
        *,
        attempts: int = 5,
        first_backoff_s: float = 0.5,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.attempts = attempts
        self.first_backoff_s = first_backoff_s
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport)
        self._queue: asyncio.Queue[Alert] = asyncio.Queue(maxsize=10_000)
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0
        self.failed = 0

    def submit(self, alert: Alert) -> None:
        """Queue an alert for delivery (never blocks)."""
        try:
            self._queue.put_nowait(alert)
        except asyncio.QueueFull:
            self.failed += 1
            log.error("alert_queue_full", kind=alert.kind, account=alert.account_id)

    def start(self) -> None:
        """Start the delivery task on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Deliver what is queued (bounded by the retries), then stop."""
        if self._task is not None:
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()

    async def _run(self) -> None:
        while True:
            alert = await self._queue.get()
            try:
                await self.deliver(alert)
            finally:
                self._queue.task_done()

    async def deliver(self, alert: Alert) -> bool:
        """Post one alert, retrying 5xx, 429 and connection errors; return success."""
        backoff = self.first_backoff_s
        reason = ""
        for attempt in range(1, self.attempts + 1):
            try:
                response = await self._client.post(self.url, json=alert.slack_payload())
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 300:
                    self.delivered += 1
                    return True
                reason = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    break  # a definitive refusal: retrying will not help
            if attempt < self.attempts:
                await asyncio.sleep(backoff)
                backoff *= 2
        self.failed += 1
        log.error("alert_webhook_failed", kind=alert.kind, account=alert.account_id, reason=reason)
        return False
