"""The recorded TWS sequences: reproducible from their builders, and decodable by ib_async."""

from __future__ import annotations

import logging

import pytest

from .decoding import decoding_ib, feed
from .fake_tws import REQUEST_NAMES
from .recordings import RECORDINGS, RESOURCES, dumps, load

NAMES = sorted(RECORDINGS)


@pytest.mark.parametrize("name", NAMES)
def test_recording_file_matches_its_builder(name: str) -> None:
    assert (RESOURCES / f"{name}.json").read_text() == dumps(RECORDINGS[name]())


def test_recording_files_are_all_built() -> None:
    assert sorted(p.stem for p in RESOURCES.glob("*.json")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_recording_every_message_decodes_without_error(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    recording = load(name)
    assert recording["server_version"] == 178
    ib = decoding_ib()
    ib.wrapper._results["completedOrders"] = []  # as reqCompletedOrders prepares it
    expected = set(REQUEST_NAMES.values())
    with caplog.at_level(logging.ERROR, logger="ib_async.Decoder"):
        for step in recording["steps"]:
            if "expect" in step:
                assert step["expect"] in expected
            if "send" in step:
                feed(
                    ib, [f.replace("$ORDER_ID", "7").replace("$REQ_ID", "9") for f in step["send"]]
                )
    assert [r.getMessage() for r in caplog.records if r.name == "ib_async.Decoder"] == []
