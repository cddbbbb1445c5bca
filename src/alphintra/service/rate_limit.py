"""Token-bucket rate limiting per venue and key, in process or shared through Redis.

A venue must never see the bursts that earn a ban. Each request costs its endpoint
weight; when the bucket is empty the caller waits. A ``Retry-After`` from the venue
empties the bucket until that time, for every node sharing it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol


class RateLimiter(Protocol):
    """Waits until ``weight`` units of a venue's budget are available."""

    async def acquire(self, weight: int = 1) -> None:
        """Take ``weight`` units, waiting as long as needed."""
        ...

    async def back_off(self, seconds: float) -> None:
        """Refuse every request for ``seconds`` (the venue sent Retry-After)."""
        ...


class TokenBucket:
    """An in-process token bucket that never exceeds ``limit`` requests per window.

    A bucket of ``burst`` tokens refills at ``(limit - burst) / per_seconds``, so any
    window of ``per_seconds`` holds at most ``burst + (limit - burst) = limit`` requests.
    """

    def __init__(self, limit: int, per_seconds: float, burst: int | None = None) -> None:
        if limit <= 0 or per_seconds <= 0:
            raise ValueError(
                f"a rate limit needs a positive limit and period, got {limit}/{per_seconds}s"
            )
        burst = max(1, limit // 10) if burst is None else burst
        if not 0 < burst < limit:
            raise ValueError(f"burst must be between 1 and {limit - 1}, got {burst}")
        self.capacity = burst
        self.rate = (limit - burst) / per_seconds
        self._tokens = float(burst)
        self._updated = time.monotonic()
        self._blocked_until = 0.0
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self, weight: int = 1) -> None:
        """Take ``weight`` tokens, waiting for the refill when the bucket is short."""
        if weight > self.capacity:
            raise ValueError(f"weight {weight} exceeds the bucket capacity {self.capacity}")
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self._blocked_until:
                    await asyncio.sleep(self._blocked_until - now)
                    continue
                self._refill(now)
                if self._tokens >= weight:
                    self._tokens -= weight
                    return
                await asyncio.sleep((weight - self._tokens) / self.rate)

    async def back_off(self, seconds: float) -> None:
        """Block the bucket for ``seconds`` and empty it."""
        self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)
        self._tokens = 0.0


# KEYS[1]: bucket hash. ARGV: capacity, rate per ms, weight, now ms.
# Returns 0 when granted, else the milliseconds to wait.
_TAKE = """
local key = KEYS[1]
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local weight = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local state = redis.call('HMGET', key, 'tokens', 'updated', 'blocked')
local tokens = tonumber(state[1]) or capacity
local updated = tonumber(state[2]) or now
local blocked = tonumber(state[3]) or 0
if now < blocked then
  return blocked - now
end
tokens = math.min(capacity, tokens + (now - updated) * rate)
if tokens >= weight then
  redis.call('HSET', key, 'tokens', tokens - weight, 'updated', now)
  redis.call('PEXPIRE', key, math.ceil(capacity / rate) + 60000)
  return 0
end
redis.call('HSET', key, 'tokens', tokens, 'updated', now)
return math.ceil((weight - tokens) / rate)
"""

_BLOCK = """
local key = KEYS[1]
local until_ms = tonumber(ARGV[1])
local blocked = tonumber(redis.call('HGET', key, 'blocked')) or 0
if until_ms > blocked then
  redis.call('HSET', key, 'blocked', until_ms, 'tokens', 0)
end
return 1
"""


class RedisTokenBucket:
    """A token bucket shared by every node through Redis (atomic Lua scripts).

    Same guarantee as ``TokenBucket``: at most ``limit`` requests per window across all
    nodes. The Redis server's clock is used, so nodes with skewed clocks share one budget.
    """

    def __init__(
        self, client: Any, key: str, limit: int, per_seconds: float, burst: int | None = None
    ) -> None:
        if limit <= 0 or per_seconds <= 0:
            raise ValueError(
                f"a rate limit needs a positive limit and period, got {limit}/{per_seconds}s"
            )
        burst = max(1, limit // 10) if burst is None else burst
        if not 0 < burst < limit:
            raise ValueError(f"burst must be between 1 and {limit - 1}, got {burst}")
        self._client = client
        self.key = key
        self.capacity = burst
        self.rate_per_ms = (limit - burst) / (per_seconds * 1000)
        self._take = client.register_script(_TAKE)
        self._block = client.register_script(_BLOCK)

    async def _now_ms(self) -> int:
        seconds, micros = await self._client.time()
        return int(seconds) * 1000 + int(micros) // 1000

    async def acquire(self, weight: int = 1) -> None:
        """Take ``weight`` units from the shared bucket, waiting as long as needed."""
        if weight > self.capacity:
            raise ValueError(f"weight {weight} exceeds the bucket capacity {self.capacity}")
        while True:
            wait_ms = int(
                await self._take(
                    keys=[self.key],
                    args=[self.capacity, self.rate_per_ms, weight, await self._now_ms()],
                )
            )
            if wait_ms <= 0:
                return
            await asyncio.sleep(wait_ms / 1000)

    async def back_off(self, seconds: float) -> None:
        """Block the shared bucket for ``seconds`` on every node."""
        until = await self._now_ms() + int(seconds * 1000)
        await self._block(keys=[self.key], args=[until])
