"""Extra simulated venues from the configuration, and the service refusing clashes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from alphintra.app.config import ConfigError, load_settings
from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.service.sim_venues import SimulatedVenueSetup
from alphintra.service.trading import TradingService
from alphintra.store.memory import MemoryJournal


def test_settings_simulated_venues_from_file_become_setups(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(
        json.dumps(
            {
                "simulated_venues": [
                    {"venue_id": "SIM-B", "taker_fee_bps": "1.5", "latency_ms": 20},
                    {"venue_id": "SIM-C", "quote_half_spread": "0.05", "max_quantity": "2"},
                ]
            }
        )
    )
    settings = load_settings(path)
    setups = [venue.setup() for venue in settings.simulated_venues]
    assert setups == [
        SimulatedVenueSetup(VenueId("SIM-B"), taker_fee_bps=Decimal("1.5"), latency_ms=20),
        SimulatedVenueSetup(
            VenueId("SIM-C"), quote_half_spread=Decimal("0.05"), max_quantity=Decimal(2)
        ),
    ]
    assert setups[0].profile().latency_ms == 20


def test_settings_simulated_venue_unknown_key_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"simulated_venues": [{"venue_id": "B", "colour": "red"}]}))
    with pytest.raises(ConfigError, match="colour"):
        load_settings(path)


def test_settings_simulated_venue_negative_spread_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    body = {"simulated_venues": [{"venue_id": "B", "quote_half_spread": "-0.1"}]}
    path.write_text(json.dumps(body))
    with pytest.raises(ConfigError, match=r"quote_half_spread.*-0\.1"):
        load_settings(path)


def test_simulated_venue_quote_is_widened_and_capped() -> None:
    setup = SimulatedVenueSetup(
        VenueId("B"), quote_half_spread=Decimal("0.02"), max_quantity=Decimal(3)
    )
    tick = QuoteTick(
        InstrumentId("SPY"), Decimal("99.99"), Decimal("100.01"), Decimal(5), Decimal(0), 7
    )
    assert setup.quote(tick) == QuoteTick(
        InstrumentId("SPY"), Decimal("99.97"), Decimal("100.03"), Decimal(3), Decimal(3), 7
    )


def test_service_refuses_an_extra_venue_named_like_the_primary() -> None:
    with pytest.raises(ValueError, match="distinct, got \\['SIM', 'SIM'\\]"):
        TradingService(
            journal=MemoryJournal(),
            registry=InstrumentRegistry(),
            clock=SimulatedClock(0),
            simulated_venues=[SimulatedVenueSetup(VenueId("SIM"))],
        )
