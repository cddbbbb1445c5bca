"""``alphintra accounts add`` refuses what would stop the service from starting.

The service rebuilds every account at start-up and refuses to start when one names a
venue that is neither SIM nor configured; there is no ``accounts remove``. So the
command must check the account as the service and the API will, before storing it.
"""

from __future__ import annotations

import base64
import io
import json
import sqlite3
import sys
from pathlib import Path

import pytest

from alphintra.app.cli import main


@pytest.fixture
def url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    url = f"sqlite:///{tmp_path / 'alphintra.db'}"
    assert main(["users", "add", "bob", "--role", "trader", "--database-url", url]) == 0
    capsys.readouterr()
    return url


def _accounts(url: str) -> list[str]:
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return [row[0] for row in conn.execute("SELECT account_id FROM trading_accounts")]
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["ACC1", "--venue", "NOPE"], "venue 'NOPE' is neither 'SIM' nor a configured"),
        (["ACC1", "--currency", "u$d"], "--currency must be 3 to 5 letters, got 'u$d'"),
        (["ACC 1;"], "account ID must be 1 to 128 letters, digits or . _ : -, got 'ACC 1;'"),
    ],
    ids=["unknown-venue", "bad-currency", "bad-account-id"],
)
def test_accounts_add_invalid_account_exits_2_and_stores_nothing(
    url: str, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code = main(["accounts", "add", *extra, "--owner", "bob", "--database-url", url])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ")
    assert message in err
    assert _accounts(url) == []


def test_accounts_add_simulated_account_is_stored(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["accounts", "add", "ACC-1", "--owner", "bob", "--currency", "eur", "--database-url", url]
    )
    assert code == 0, capsys.readouterr().err
    assert _accounts(url) == ["ACC-1"]


def test_accounts_add_configured_live_venue_with_credentials_is_stored(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    binance = {
        "kind": "ccxt",
        "instruments": ["BTCUSDT"],
        "settings": {"exchange_id": "binance", "base_url": "http://127.0.0.1:9"},
    }
    monkeypatch.setenv("ALPHINTRA_VENUES", json.dumps({"BINANCE": binance}))
    monkeypatch.setenv("ALPHINTRA_MASTER_KEY", base64.b64encode(bytes(range(32))).decode())
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"api_key": "k", "secret": "s"}'))
    argv = ["accounts", "add", "CRYPTO1", "--owner", "bob", "--venue", "BINANCE"]
    code = main([*argv, "--currency", "USDT", "--credentials-stdin", "--database-url", url])
    assert code == 0, capsys.readouterr().err
    assert _accounts(url) == ["CRYPTO1"]


@pytest.mark.parametrize("user_id", ["", "  ", " bob", "bob smith", "x" * 129, "bob\n"])
def test_users_add_unusable_user_id_exits_2_and_stores_nothing(
    url: str, capsys: pytest.CaptureFixture[str], user_id: str
) -> None:
    code = main(["users", "add", user_id, "--role", "admin", "--database-url", url])
    err = capsys.readouterr().err
    assert code == 2
    assert "user ID must be 1 to 128 letters, digits or . _ @ : -" in err
    main(["users", "list", "--json", "--database-url", url])
    assert json.loads(capsys.readouterr().out) == [{"userId": "bob", "role": "trader"}]


def test_users_add_email_user_id_is_stored(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["users", "add", "alice@example.com", "--role", "read_only", "--database-url", url])
        == 0
    )
