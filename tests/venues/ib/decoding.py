"""Feed raw TWS field lists through ib_async's real Decoder into the Wrapper of an ``IB``."""

from __future__ import annotations

from ib_async import IB

from . import tws_messages as m


def decoding_ib(client_id: int = 1) -> IB:
    """Return an unconnected ``IB`` whose decoder reads server version 178."""
    ib = IB()
    ib.client.decoder.serverVersion = m.SERVER_VERSION
    ib.wrapper.clientId = client_id
    return ib


def feed(ib: IB, *messages: list[str]) -> None:
    """Decode each message as if it had just arrived on the socket."""
    for fields in messages:
        ib.client.decoder.interpret(list(fields))  # type: ignore[no-untyped-call]
