"""IbConfig: typed, frozen, validated; unknown keys are errors."""

from __future__ import annotations

import dataclasses

import pytest

from alphintra.venues.ib.config import GATEWAY_PAPER_PORT, TWS_PAPER_PORT, IbConfig


def test_config_defaults_point_at_a_paper_tws_on_localhost() -> None:
    config = IbConfig()
    assert (config.host, config.port, config.client_id, config.venue_id) == (
        "127.0.0.1",
        TWS_PAPER_PORT,
        1,
        "IB",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.port = 1  # type: ignore[misc]


def test_config_from_mapping_builds_a_gateway_config() -> None:
    config = IbConfig.from_mapping(
        {"port": GATEWAY_PAPER_PORT, "client_id": 17, "account": "DU1", "venue_id": "IBKR"}
    )
    assert (config.port, config.client_id, config.account, config.venue_id) == (
        4002,
        17,
        "DU1",
        "IBKR",
    )


def test_config_from_mapping_with_unknown_key_raises_naming_it() -> None:
    with pytest.raises(ValueError, match="clientid"):
        IbConfig.from_mapping({"clientid": 3})


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("port", 0, "port"),
        ("client_id", -1, "client_id"),
        ("ack_timeout_s", 0, "ack_timeout_s"),
        ("market_data_type", 5, "market_data_type"),
        ("reconnect_max_s", 0.5, "reconnect_max_s"),
        ("heartbeat_interval_s", 0, "heartbeat_interval_s"),
        ("heartbeat_timeout_s", -1.0, "heartbeat_timeout_s"),
        ("host", "", "host"),
    ],
)
def test_config_invalid_value_raises_naming_the_field(
    field: str, value: object, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        IbConfig.from_mapping({field: value})
