"""Our client order IDs on the wire: verbatim when the venue accepts them, else a hash.

The mapping is deterministic, so after a restart the engine can still find an order
by its own ID: the adapter derives the same wire ID again. Reading the mapping back
(wire ID to ours) needs the memo filled when we encode (the last 100 000 IDs are kept);
an order the adapter has not encoded in this process, whose ID had to be hashed, is
reported under its wire ID.

* Binance ``newClientOrderId`` accepts ``^[.A-Z:/a-z0-9_-]{1,36}$``; other IDs become
  ``H`` and 32 hex digits of SHA-256 (33 characters).
* Kraken ``cl_ord_id`` accepts free text up to 18 ASCII characters or a UUID; longer
  IDs become a name-based UUID (uuid5, 36 characters). ``userref`` (an int32) is not
  used: it is not unique and cannot carry our IDs.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from typing import Generic, TypeVar

from alphintra.domain.identifiers import ClientOrderId, VenueOrderId
from alphintra.venues.ccxt.profiles import ClientIdRule, ClientIdStyle

_NAMESPACE = uuid.UUID("6f1c0e5a-6b7d-4f2e-9a51-3d7c2b8e4a10")
_K = TypeVar("_K")
_V = TypeVar("_V")
MEMO_SIZE = 100_000


class BoundedMap(Generic[_K, _V]):
    """A mapping that forgets its least recently written entries beyond ``size``."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[_K, _V] = OrderedDict()

    def __setitem__(self, key: _K, value: _V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def get(self, key: _K, default: _V | None = None) -> _V | None:
        """Return the value for ``key``, or ``default``."""
        return self._items.get(key, default)

    def __len__(self) -> int:
        return len(self._items)


class ClientIdCodec:
    """Map our client order IDs to the venue's and back, and remember venue order IDs."""

    def __init__(self, rule: ClientIdRule) -> None:
        self._rule = rule
        self._ours: BoundedMap[str, ClientOrderId] = BoundedMap()
        self._by_venue_order: BoundedMap[VenueOrderId, ClientOrderId] = BoundedMap()

    def wire(self, client_order_id: ClientOrderId) -> str:
        """Return the ID to send for ``client_order_id`` (and remember the pair)."""
        text = str(client_order_id)
        if self._rule.accepts.fullmatch(text):
            wire = text
        elif self._rule.style is ClientIdStyle.UUID:
            wire = str(uuid.uuid5(_NAMESPACE, text))
        elif self._rule.style is ClientIdStyle.SHORT_HEX:
            wire = "H" + hashlib.sha256(text.encode()).hexdigest()[:31]
        else:
            wire = "H" + hashlib.sha256(text.encode()).hexdigest()[:32]
        self._ours[wire] = client_order_id
        return wire

    def ours(self, wire: str | None) -> ClientOrderId | None:
        """Return our ID for a wire ID: the remembered one, else the wire ID itself."""
        if not wire:
            return None
        return self._ours.get(wire) or ClientOrderId(wire)

    def link(self, venue_order_id: VenueOrderId, client_order_id: ClientOrderId) -> None:
        """Remember which of our orders a venue order ID belongs to."""
        self._by_venue_order[venue_order_id] = client_order_id

    def by_venue_order(self, venue_order_id: VenueOrderId) -> ClientOrderId | None:
        """Return our ID for a venue order ID seen before, or None."""
        return self._by_venue_order.get(venue_order_id)
