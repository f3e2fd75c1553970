"""The SFU packs forwarded RTP headers itself (media/aiortc_internals/senders.py):
the bytes must be exactly what aiortc's ``RtpPacket.serialize`` makes."""

from __future__ import annotations

import pytest
from aiortc import clock
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from media.aiortc_internals import _rtp_send, native_send
from media.aiortc_internals.senders import RtpHeaderPacker, ntp_now
from media.aiortc_internals.sent_history import NativeSentHistory, SentHistory

# the history in Python and in C (the C writer's): the same ring, slot for slot
HISTORIES = pytest.mark.parametrize("history_type", [SentHistory, NativeSentHistory])

URIS = {
    "mid": "urn:ietf:params:rtp-hdrext:sdes:mid",
    "abs": "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "level": "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
}


def _map(ids: dict[str, int]) -> HeaderExtensionsMap:
    extensions_map = HeaderExtensionsMap()
    extensions_map.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=i, uri=URIS[name]) for name, i in ids.items()
            ]
        )
    )
    return extensions_map


@pytest.mark.parametrize(
    "ids, mid, audio_level",
    [
        ({"mid": 1, "abs": 2}, "0", None),  # video as the SFU offers it
        ({"mid": 1, "abs": 2, "level": 3}, "12", (True, 42)),  # audio
        ({"mid": 4, "abs": 14, "level": 9}, "abcdefghijklmnop", (False, 127)),
        ({"abs": 2}, None, None),
        ({"mid": 1}, "7", None),
        ({}, None, None),
    ],
)
def test_packed_headers_are_byte_for_byte_aiortcs(
    ids: dict[str, int], mid: str | None, audio_level: tuple[bool, int] | None
) -> None:
    packer = RtpHeaderPacker(
        96,
        0xDEADBEEF,
        mid=(ids["mid"], mid) if "mid" in ids and mid is not None else None,
        abs_send_time_id=ids.get("abs"),
        audio_level_id=ids.get("level"),
    )
    for seq, ts, marker in [(0, 0, 0), (65535, 0xFFFFFFFF, 1), (1234, 99999, 1)]:
        packet = RtpPacket(
            payload_type=96,
            marker=marker,
            sequence_number=seq,
            timestamp=ts,
            ssrc=0xDEADBEEF,
            payload=b"\x10\x02payload",
        )
        packet.extensions.mid = mid
        packet.extensions.abs_send_time = 0xABCDEF
        packet.extensions.audio_level = audio_level
        expected = packet.serialize(_map(ids))
        assert packer.pack(seq, ts, marker, 0xABCDEF, audio_level, packet.payload) == expected


def test_ntp_now_is_aiortcs_clock() -> None:
    before = clock.current_ntp_time()
    now = ntp_now()
    after = clock.current_ntp_time()
    assert before - (1 << 22) <= now <= after + (1 << 22)  # within ~1 ms


@HISTORIES
def test_the_compact_history_gives_back_the_packet_that_was_sent(history_type: type) -> None:
    """A NACK is answered from SentHistory: the packet aiortc rebuilds from it
    serializes to the bytes the writer sent first."""
    ids = {"mid": 1, "abs": 2, "level": 3}
    packer = RtpHeaderPacker(111, 0x1234, mid=(1, "3"), abs_send_time_id=2, audio_level_id=3)
    history = history_type(256)
    history.describe(111, 0x1234, "3")
    sent = {}
    for seq in range(65500, 65500 + 300):
        seq &= 0xFFFF
        payload = seq.to_bytes(2, "big") * 20
        history.file(seq, seq * 960, 1, payload, seq * 7, (False, seq % 128))
        sent[seq] = packer.pack(seq, seq * 960, 1, seq * 7, (False, seq % 128), payload)
    for seq, data in list(sent.items())[-256:]:
        packet = history.get(seq % 1024)  # how RTCRtpSender._retransmit looks it up
        assert packet is not None and packet.sequence_number == seq
        assert packet.serialize(_map(ids)) == data
    overwritten = next(iter(sent))  # 300 packets through a ring of 256
    assert history.get(overwritten % 1024).sequence_number != overwritten
    assert history_type(128).get(5) is None


@HISTORIES
def test_the_history_lets_go_of_packets_older_than_a_repair_can_use(history_type: type) -> None:
    now = [100.0]
    history = history_type(1024, clock=lambda: now[0])
    history.describe(96, 1, "0")
    for seq in range(100):  # 50 packets/s for 2 s
        now[0] = 100.0 + seq * 0.02
        history.file(seq, seq, 0, b"x" * 1000, 0, None)
    now[0] = 102.01
    history.file(100, 100, 0, b"x", 0, None)  # what was filed before 100.01 goes
    assert history.get(0) is None
    assert history.get(1).sequence_number == 1
    assert len(history) == 100  # about 2 s, not the 1024 slots
    now[0] += 5.0
    history.file(101, 101, 0, b"x", 0, None)
    assert len(history) == 1 and history.get(101).sequence_number == 101


@HISTORIES
def test_a_nack_is_answered_only_for_the_packet_its_slot_holds(history_type: type) -> None:
    history = history_type(256, clock=lambda: 0.0)
    history.describe(96, 1234, "1")
    history.file(1000, 90_000, 1, b"frame", 0, None)
    assert history.holds(1000) and history.get(1000).sequence_number == 1000
    assert not history.holds(1000 + 256)  # the same slot, another packet
    assert not history.holds(999)
    assert history.get(999) is None and history.get(999, "none") == "none"


def test_the_c_history_lets_go_of_the_oldest_when_more_than_its_size_is_filed_at_once() -> None:
    """Its filing order is a ring of ``size``: the slot of the oldest filing has been
    filed over by then (consecutive sequence numbers), so nothing held is lost."""
    history = NativeSentHistory(8, clock=lambda: 0.0)
    for seq in range(20):
        history.file(seq, seq, 0, bytes([seq]), 0, None)
    assert len(history) == 8
    assert [history.holds(seq) for seq in range(10, 20)] == [False] * 2 + [True] * 8
    with pytest.raises(OverflowError):
        history.file(70_000, 0, 0, b"x", 0, None)
    with pytest.raises(TypeError):
        history.file(1, 0, 0, "not bytes", 0, None)  # type: ignore[arg-type]
    assert len(history) == 8 and history.entry(19) == (19, 19, 0, bytes([19]), 0, None)


@HISTORIES
def test_a_full_ring_keeps_the_packet_it_files(history_type: type) -> None:
    history = history_type(1, clock=lambda: 0.0)
    history.file(7, 0, 0, b"a", 0, None)
    history.file(7, 0, 0, b"b", 0, None)  # the one slot, filed again
    assert history.holds(7) and len(history) == 1
    assert history.get(7).payload == b"b"


def test_c_objects_not_initialised_refuse_instead_of_crashing() -> None:
    """``__new__`` without ``__init__`` (or a subclass that skips it) leaves no ring:
    each method says so rather than dividing by its size or reading NULL."""
    native_send._configure()  # as a native writer would have (not so with CAUCUS_RTP_SEND=python)
    bare = _rtp_send.SentHistory.__new__(_rtp_send.SentHistory)
    with pytest.raises(RuntimeError, match="__init__ was not called"):
        bare.file(1, 0, 0, b"x", 0, None)
    with pytest.raises(RuntimeError, match="__init__ was not called"):
        bare.entry(1)
    writer = _rtp_send.RtpSend.__new__(_rtp_send.RtpSend)
    with pytest.raises(RuntimeError, match="__init__ was not called"):
        writer.write(1, 0, 0, b"x", None)
    with pytest.raises(ValueError, match="__init__ was not called"):
        _rtp_send.RtpSend(object(), bare, 96, 1, b"", 0, 0)
