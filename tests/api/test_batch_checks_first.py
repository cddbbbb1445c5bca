"""A batch of signals for several accounts is checked whole before any is submitted.

Before, a bad ``metadata.execution`` on a later account's signal answered 422 after the
earlier accounts' signals had been recorded and sent: the client, told the batch was
refused, could not know that part of it traded.
"""

from __future__ import annotations

from api.live import API, Deployment, LiveService, signal_body


def test_a_bad_execution_on_a_later_account_refuses_the_batch_before_anything_is_sent(
    live: LiveService, deployment: Deployment
) -> None:
    ada = deployment.users["ada"]  # an administrator sees every account
    first = signal_body("batch-alice", accountId="ALICE-1")
    bad = signal_body(
        "batch-bob", accountId="BOB-1", metadata={"execution": {"type": "TWAP", "slices": 0}}
    )
    with live.client(ada) as client:
        answer = client.post(f"{API}/signals/batch", json={"signals": [first, bad]})
        assert answer.status_code == 422, answer.text
        for signal_id, account in (("batch-alice", "ALICE-1"), ("batch-bob", "BOB-1")):
            found = client.get(f"{API}/signals/{signal_id}", params={"accountId": account})
            assert found.status_code == 404, found.text  # before: batch-alice was recorded
