"""NACK scheduling and frame assembly, with an injected clock (no network)."""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from media.assembler import FrameAssembler, vp8_assembler
from media.codecs import vp8_is_keyframe
from media.nack import NackScheduler
from media.packetizer import Vp8Packer, vp8_starts_frame


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def packet(
    seq: int, timestamp: int = 0, *, marker: int = 0, payload: bytes = b"\x10x"
) -> RtpPacket:
    p = RtpPacket(sequence_number=seq & 0xFFFF, timestamp=timestamp, marker=marker)
    p.payload = payload
    p._data = payload[1:]  # type: ignore[attr-defined]  # what aiortc's depayload leaves
    return p


def vp8_frame(first_seq: int, timestamp: int, *, key: bool, packets: int = 2) -> list[RtpPacket]:
    body = (b"\x00" if key else b"\x01") + bytes([timestamp % 251]) * 10
    out = []
    for i in range(packets):
        descriptor = b"\x10" if i == 0 else b"\x00"
        out.append(
            packet(
                first_seq + i, timestamp, marker=int(i == packets - 1), payload=descriptor + body
            )
        )
    return out


def test_a_hole_is_nacked_at_once_echoed_twice_and_again_until_repaired() -> None:
    clock = Clock()
    nack = NackScheduler(clock, initial_rtt=0.1, echo=0.015)  # default: three copies
    assert not nack.add(packet(1))
    clock.now = 0.01
    assert nack.add(packet(3)) and nack.missing == [2]
    clock.now = 0.02
    assert not nack.add(packet(4))  # the echo waits 15 ms
    clock.now = 0.03
    assert nack.add(packet(5)) and nack.missing == [2]  # the first echo
    clock.now = 0.04
    assert not nack.add(packet(6))
    clock.now = 0.05
    assert nack.add(packet(7)) and nack.missing == [2]  # the second echo
    clock.now = 0.1
    assert not nack.add(packet(8))  # a retry waits about one round trip
    clock.now = 0.22
    assert nack.add(packet(9)) and nack.missing == [2]
    clock.now = 0.25
    nack.add(packet(2))  # repaired
    clock.now = 1.0
    assert not nack.add(packet(10))
    assert nack.repaired == 1 and nack.srtt > 0.1


def test_a_hole_is_given_up_after_three_copies_and_four_retries() -> None:
    clock = Clock()
    nack = NackScheduler(clock, initial_rtt=0.1, echo=0.015, max_age=10.0)
    nack.add(packet(1))
    seq, sent = 3, 0
    while nack.abandoned == 0 and clock.now < 5.0:
        clock.now += 0.005
        if nack.add(packet(seq)):
            assert nack.missing == [2]
            sent += 1
        seq += 1
    assert sent == 7 and nack.abandoned == 1 and not nack.is_pending(2)


def test_without_redundancy_a_hole_waits_a_round_trip_between_nacks() -> None:
    clock = Clock()
    nack = NackScheduler(clock, initial_rtt=0.1, redundancy=1)
    nack.add(packet(1))
    assert nack.add(packet(3))
    clock.now = 0.05
    assert not nack.add(packet(4))
    clock.now = 0.2
    assert nack.add(packet(5)) and nack.missing == [2]


def test_a_hole_is_abandoned_once_too_old() -> None:
    clock = Clock()
    nack = NackScheduler(clock, max_age=0.5)
    nack.add(packet(10))
    nack.add(packet(12))
    assert nack.is_pending(11)
    clock.now = 0.6
    nack.add(packet(13))
    assert not nack.is_pending(11) and nack.abandoned == 1


def test_sequence_numbers_wrap() -> None:
    nack = NackScheduler(Clock())
    nack.add(packet(0xFFFE))
    assert nack.add(packet(1)) and sorted(nack.missing) == [0, 0xFFFF]


def test_a_video_frame_is_released_on_its_marker_packet() -> None:
    assembler = FrameAssembler(
        ordered=True, is_frame_start=vp8_starts_frame, is_keyframe=vp8_is_keyframe
    )
    first, last = vp8_frame(100, 3000, key=True)
    assert assembler.add(first) == (False, None)
    pli, frame = assembler.add(last)
    assert frame is not None and frame.keyframe and frame.timestamp == 3000
    assert frame.data == first._data + last._data  # type: ignore[attr-defined]


def test_a_retransmission_releases_every_frame_it_was_holding_back() -> None:
    clock = Clock()
    nack = NackScheduler(clock)
    assembler = vp8_assembler(nack, clock)
    packets = (
        vp8_frame(0, 0, key=True) + vp8_frame(2, 3000, key=False) + vp8_frame(4, 6000, key=False)
    )
    lost = packets.pop(2)
    for p in packets:
        nack.add(p)
        assembler.add(p)
    assert assembler.drain() == []
    nack.add(lost)
    _, frame = assembler.add(lost)
    assert frame is not None and frame.timestamp == 3000
    assert [f.timestamp for f in assembler.drain()] == [6000]


def test_an_abandoned_hole_is_skipped_and_a_keyframe_requested() -> None:
    clock = Clock()
    nack = NackScheduler(clock, max_age=0.3)
    assembler = vp8_assembler(nack, clock)
    packets = (
        vp8_frame(0, 0, key=True) + vp8_frame(2, 3000, key=False) + vp8_frame(4, 6000, key=False)
    )
    del packets[2]
    released = []
    plis = 0
    for p in packets:
        nack.add(p)
        pli, frame = assembler.add(p)
        plis += pli
        released += [frame] if frame else []
    assert [f.timestamp for f in released] == [0]
    clock.now = 0.5  # the NACK scheduler gives up on the hole
    late = vp8_frame(6, 9000, key=False) + vp8_frame(8, 12000, key=True)
    for p in late:
        nack.add(p)
        pli, frame = assembler.add(p)
        plis += pli
        released += [frame] if frame else []
        released += assembler.drain()
    # the delta frames after the hole are useless without it: wait for the keyframe
    assert [f.timestamp for f in released] == [0, 12000]
    assert released[1].discontinuity and plis >= 1


def test_audio_frames_are_released_on_arrival_even_out_of_order() -> None:
    assembler = FrameAssembler(ordered=False)
    order = []
    for seq in (1, 2, 4, 5, 3, 3):
        _, frame = assembler.add(packet(seq, seq * 960))
        if frame is not None:
            order.append(frame.timestamp // 960)
    assert order == [1, 2, 4, 5, 3]


def test_vp8_packer_splits_a_frame_into_mtu_sized_payloads() -> None:
    packer = Vp8Packer()
    payloads = packer.pack(b"\x00" + bytes(3000))
    assert len(payloads) == 3 and all(len(p) <= 1300 for p in payloads)
    assert payloads[0][0] & 0x10 and not payloads[1][0] & 0x10
