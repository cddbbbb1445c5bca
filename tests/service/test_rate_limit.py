"""Rate limits: never more than the venue's limit in any window, shared across nodes."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from alphintra.service.rate_limit import RedisTokenBucket, TokenBucket


def _peak(moments: list[float], window: float) -> int:
    moments = sorted(moments)
    peak, start = 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= window:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start a real Redis server (or use REDIS_URL)."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (apt-get install redis-server)")
        pytest.skip("redis-server is not installed")
    port = _free_port()
    folder: Path = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_token_bucket_burst_of_requests_never_exceeds_limit_per_window() -> None:
    bucket = TokenBucket(200, 0.5)
    granted: list[float] = []

    async def worker() -> None:
        for _ in range(100):
            await bucket.acquire()
            granted.append(time.monotonic())

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(6)))

    asyncio.run(main())
    assert len(granted) == 600
    assert _peak(granted, 0.5) <= 200
    assert granted[-1] - granted[0] >= 0.5 * (600 - 200) / 200


def test_token_bucket_invalid_settings_raise_naming_values() -> None:
    with pytest.raises(ValueError, match="0/1"):
        TokenBucket(0, 1)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(10, 1, burst=10)


def test_redis_bucket_two_nodes_share_one_limit(redis_url: str) -> None:
    granted: list[float] = []

    async def node(name: str) -> None:
        client = aioredis.from_url(redis_url)
        bucket = RedisTokenBucket(client, f"test:{os.getpid()}:shared", 100, 0.5)
        for _ in range(150):
            await bucket.acquire()
            granted.append(time.monotonic())
        await client.aclose()

    async def main() -> None:
        await asyncio.gather(node("a"), node("b"))

    asyncio.run(main())
    assert len(granted) == 300
    # Both nodes together stay under 100 per half second (a little slack for the
    # round trip between Redis granting a slot and the node reading the time).
    assert _peak(granted, 0.5) <= 100 + 5


def test_redis_bucket_retry_after_blocks_every_node(redis_url: str) -> None:
    async def main() -> float:
        first = aioredis.from_url(redis_url)
        second = aioredis.from_url(redis_url)
        key = f"test:{os.getpid()}:blocked"
        a = RedisTokenBucket(first, key, 1000, 1.0)
        b = RedisTokenBucket(second, key, 1000, 1.0)
        await a.back_off(0.4)
        started = time.monotonic()
        await b.acquire()
        waited = time.monotonic() - started
        await first.aclose()
        await second.aclose()
        return waited

    assert asyncio.run(main()) >= 0.3
