"""A client's mistakes are logged one line per kind and interval; nested JSON is bounded."""

from __future__ import annotations

import logging

import pytest

from signaling import safe_json
from signaling.client_faults import ClientFaultLog


def test_a_burst_of_refusals_is_one_line_then_a_count(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = ClientFaultLog(logging.getLogger("tests.faults"), interval_s=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="tests.faults"):
        for _ in range(1000):
            log.refused("SDP answer", "bad fingerprint")
        log.refused("frame", "bad JSON")  # another kind has its own line
        now[0] = 10.5
        log.refused("SDP answer", "bad mid")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "refused a client's SDP answer: bad fingerprint",
        "refused a client's frame: bad JSON",
        "refused a client's SDP answer: bad mid (999 more refused since the last line)",
    ]
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in caplog.records)


@pytest.mark.parametrize(
    "text",
    ["[" * 33 + "]" * 33, '{"a":' * 40 + "1" + "}" * 40, "[" * 100_000, "1" * 101, "NaN", "\xff"],
)
def test_json_a_client_should_not_send_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        safe_json.loads(text)


def test_json_within_the_limits_decodes() -> None:
    assert safe_json.loads("[" * 32 + "]" * 32) is not None
    assert safe_json.loads('{"a": [1, {"b": "c"}]}') == {"a": [1, {"b": "c"}]}
