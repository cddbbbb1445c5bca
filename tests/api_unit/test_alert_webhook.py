"""The alert webhook: Slack-compatible JSON to a real local HTTP receiver, with retries."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from alphintra.api.alerts import Alert, WebhookSender


async def _receiver(statuses: list[int], seen: list[dict[str, Any]]) -> tuple[web.AppRunner, str]:
    async def hook(request: web.Request) -> web.Response:
        seen.append(json.loads(await request.text()))
        status = statuses.pop(0) if statuses else 200
        headers = {"Retry-After": "0"} if status == 429 else {}
        return web.Response(status=status, text="ok", headers=headers)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/hook"


def test_webhook_retries_5xx_and_429_then_delivers_slack_json() -> None:
    async def main() -> tuple[bool, list[dict[str, Any]], int]:
        seen: list[dict[str, Any]] = []
        runner, url = await _receiver([500, 429, 503], seen)
        sender = WebhookSender(url, attempts=5, first_backoff_s=0.01)
        ok = await sender.deliver(Alert("ACC-1", "drawdown", "drawdown 0.12 > 0.10", "BTCUSD"))
        await sender.stop()
        await runner.cleanup()
        return ok, seen, sender.delivered

    ok, seen, delivered = asyncio.run(main())
    assert ok and delivered == 1
    assert len(seen) == 4
    assert seen[-1] == {"text": "[alphintra] ACC-1 BTCUSD drawdown: drawdown 0.12 > 0.10"}


def test_webhook_definitive_4xx_is_not_retried_and_counted_failed() -> None:
    async def main() -> tuple[bool, int, int]:
        seen: list[dict[str, Any]] = []
        runner, url = await _receiver([400, 200], seen)
        sender = WebhookSender(url, attempts=5, first_backoff_s=0.01)
        ok = await sender.deliver(Alert("ACC-1", "daily_loss", "loss 600 > 500"))
        await sender.stop()
        await runner.cleanup()
        return ok, len(seen), sender.failed

    ok, calls, failed = asyncio.run(main())
    assert not ok and calls == 1 and failed == 1


def test_webhook_unreachable_receiver_gives_up_after_bounded_attempts() -> None:
    async def main() -> tuple[bool, int]:
        sender = WebhookSender("http://127.0.0.1:9/hook", attempts=3, first_backoff_s=0.01)
        ok = await sender.deliver(Alert("ACC-1", "volatility_breaker", "vol 0.02 > 0.01"))
        await sender.stop()
        return ok, sender.failed

    assert asyncio.run(main()) == (False, 1)
