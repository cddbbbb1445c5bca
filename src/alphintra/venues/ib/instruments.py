"""Which instrument a contract is: our instruments to IB contracts, and back."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from ib_async import Contract

from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.instruments import Instrument
from alphintra.domain.registry import InstrumentRegistry, UnknownInstrumentError
from alphintra.venues.adapter import VenueError, VenueErrorKind
from alphintra.venues.ib import translation as tr


class IbInstruments:
    """The adapter's instruments, with the contract of each and the reverse lookup.

    TWS reports contracts fully filled in (conId, localSymbol, last trade date), so a
    reported contract is matched first by conId (learned when a contract is qualified
    or first resolved), then by ``translation.contract_keys``, and only then guessed
    from the contract itself (``translation.instrument_id_for_contract``).
    """

    def __init__(
        self, venue: str, instruments: InstrumentRegistry | Mapping[InstrumentId, Instrument]
    ) -> None:
        self._venue = venue
        self._instruments = instruments
        self._by_con_id: dict[int, InstrumentId] = {}
        self._by_key: dict[tr.ContractKey, InstrumentId] = {}
        self._indexed = -1

    def get(self, instrument_id: InstrumentId) -> Instrument:
        """Return the instrument; raise DEFINITIVE when it is not defined."""
        try:
            if isinstance(self._instruments, InstrumentRegistry):
                return self._instruments.get(instrument_id)
            return self._instruments[instrument_id]
        except (KeyError, UnknownInstrumentError):
            raise VenueError(
                VenueErrorKind.DEFINITIVE,
                self._venue,
                f"unknown instrument {instrument_id!r}: define it for the IB adapter",
            ) from None

    def contract(self, instrument_id: InstrumentId) -> Contract:
        """Return the (unqualified) IB contract; raise DEFINITIVE when IB has none."""
        try:
            return tr.contract_for(self.get(instrument_id))
        except tr.IbTranslationError as exc:
            raise VenueError(VenueErrorKind.DEFINITIVE, self._venue, str(exc)) from exc

    def learn(self, con_id: int, instrument_id: InstrumentId) -> None:
        """Remember that IB's contract ``con_id`` is ``instrument_id``."""
        if con_id:
            self._by_con_id[con_id] = instrument_id

    def _known(self) -> Mapping[InstrumentId, Instrument]:
        if isinstance(self._instruments, InstrumentRegistry):
            return self._instruments.known()
        return self._instruments

    def resolve(self, contract: Contract) -> InstrumentId:
        """Return the instrument of a contract TWS reported (conId, then keys, then a guess)."""
        found = self._by_con_id.get(contract.conId) if contract.conId else None
        if found is not None:
            return found
        known = self._known()
        if len(known) != self._indexed:
            for instrument in known.values():
                with contextlib.suppress(tr.IbTranslationError):
                    for key in tr.contract_keys(tr.contract_for(instrument)):
                        self._by_key.setdefault(key, instrument.id)
            self._indexed = len(known)
        keys = tr.contract_keys(contract)
        found = next((self._by_key[k] for k in sorted(keys) if k in self._by_key), None)
        found = found or tr.instrument_id_for_contract(contract)
        self.learn(contract.conId, found)
        return found
