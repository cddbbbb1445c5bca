"""Broker credentials: encrypted at rest under the master key, never shown, never logged."""

from __future__ import annotations

import json
import logging

import pytest

from alphintra.security import CredentialDecryptionError, CredentialVault
from api.live import API, Deployment, get_ok

CREDENTIALS = {"apiKey": "SECRET-123", "apiSecret": "TOPSECRET-456"}
SECRETS = tuple(CREDENTIALS.values())


def _contains_secret(value: object) -> bool:
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return any(s.encode() in value for s in SECRETS)
    return any(s in str(value) for s in SECRETS)


def test_credentials_account_created_stored_encrypted_never_returned_or_logged(
    deployment: Deployment, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    live = deployment.start(log_level="debug")
    body = {
        "accountId": "CRED-1",
        "venue": "SIM",
        "baseCurrency": "USD",
        "startingCash": "25000",
        "credentials": CREDENTIALS,
    }
    with live.client(deployment.users["ada"]) as admin:
        created = admin.post(f"{API}/accounts", json=body)
        assert created.status_code == 201, created.text
        assert created.json() == {
            "accountId": "CRED-1",
            "owner": "ada",
            "venue": "SIM",
            "baseCurrency": "USD",
            "hasCredentials": True,
            "tradingState": "ACTIVE",
        }
        again = admin.post(f"{API}/accounts", json=body)
        assert again.status_code == 409
        assert again.json()["code"] == "ACCOUNT_EXISTS"
        listed = admin.get(f"{API}/accounts")
        assert listed.status_code == 200
        assert {a["accountId"]: a["hasCredentials"] for a in listed.json()}["CRED-1"] is True
        portfolio = get_ok(admin, "/portfolio", accountId="CRED-1")
        assert portfolio["cashBalance"] == "25000"
        for response in (created, again, listed):
            assert not _contains_secret(response.text)
            assert not _contains_secret(response.headers)

    ((ciphertext,),) = deployment.sql(
        "SELECT ciphertext FROM broker_credentials WHERE account_id = 'CRED-1'"
    )
    blob = bytes(ciphertext)
    assert not _contains_secret(blob)
    vault = CredentialVault(deployment.master_key)
    assert json.loads(vault.decrypt(blob, b"CRED-1")) == CREDENTIALS
    with pytest.raises(CredentialDecryptionError):
        vault.decrypt(blob, b"ALICE-1")

    stored = deployment.dump()
    audit = [
        c for c in stored if b"account.create" in (c if isinstance(c, bytes) else str(c).encode())
    ]
    assert audit, "the dump does not reach the journal, where the audit of the creation is"
    assert [cell for cell in stored if _contains_secret(cell)] == []

    live.stop()
    captured = capfd.readouterr()
    logs = captured.out + captured.err + caplog.text
    # The server's own access log proves the capture saw the server, not just the client.
    assert '"POST /api/v1/accounts HTTP/1.1" 201' in logs
    assert not _contains_secret(logs)
