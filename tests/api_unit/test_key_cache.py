"""API keys are cached for a short TTL; a revocation through the same directory is immediate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from alphintra.security import generate_api_key
from alphintra.store.directory import Directory
from alphintra.store.migrate import upgrade

PEPPER = b"p" * 32
SEC = 1_000_000_000


class Clock:
    """A monotonic clock the test moves by hand (nanoseconds)."""

    def __init__(self) -> None:
        self.now = 5 * SEC

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'directory.db'}"
    upgrade(url)
    return url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(url: str, clock: Clock) -> Iterator[Directory]:
    """The service's directory, caching keys for 2 s."""
    directory = Directory(url, key_cache_ttl_s=2, clock=clock)
    yield directory
    directory.close()


@pytest.fixture
def elsewhere(url: str) -> Iterator[Directory]:
    """Another process's directory on the same database (the revoke command's)."""
    directory = Directory(url)
    yield directory
    directory.close()


def _key(directory: Directory) -> tuple[str, str]:
    directory.add_user("alice", "trader")
    key = generate_api_key(PEPPER)
    directory.add_key(key.key_id, "alice", key.key_hash)
    return key.key_id, key.key_hash


def test_key_revoked_through_same_directory_refused_at_once(service: Directory) -> None:
    key_id, key_hash = _key(service)
    assert service.key(key_id) == ("alice", key_hash)  # now cached

    assert service.revoke_key(key_id)

    assert service.key(key_id) is None


def test_key_revoked_elsewhere_refused_once_the_ttl_has_passed(
    service: Directory, elsewhere: Directory, clock: Clock
) -> None:
    key_id, key_hash = _key(elsewhere)
    assert service.key(key_id) == ("alice", key_hash)

    assert elsewhere.revoke_key(key_id)

    clock.now += 2 * SEC - 1
    assert service.key(key_id) == ("alice", key_hash)  # the documented staleness bound
    clock.now += 1
    assert service.key(key_id) is None
    clock.now += 10 * SEC
    assert service.key(key_id) is None


def test_key_unknown_is_not_cached_so_a_new_key_works_at_once(
    service: Directory, elsewhere: Directory
) -> None:
    generated = generate_api_key(PEPPER)
    assert service.key(generated.key_id) is None
    elsewhere.add_user("bob", "trader")
    elsewhere.add_key(generated.key_id, "bob", generated.key_hash)

    assert service.key(generated.key_id) == ("bob", generated.key_hash)


def test_key_cache_ttl_zero_asks_the_database_every_time(
    url: str, elsewhere: Directory, clock: Clock
) -> None:
    uncached = Directory(url, key_cache_ttl_s=0, clock=clock)  # the clock stands still
    try:
        key_id, key_hash = _key(elsewhere)
        assert uncached.key(key_id) == ("alice", key_hash)
        assert elsewhere.revoke_key(key_id)
        assert uncached.key(key_id) is None
    finally:
        uncached.close()
