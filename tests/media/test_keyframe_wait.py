"""Where a restarting video forward begins (no network: the decision alone)."""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from media.keyframe_wait import KeyframeWait
from media.producer import PacketInfo


def arrival(ext: int, *, start: bool = False, key: bool = False) -> tuple[RtpPacket, PacketInfo]:
    packet = RtpPacket(sequence_number=ext & 0xFFFF)
    return packet, PacketInfo(ext=ext, arrival=0.0, frame_start=start, keyframe=key)


def exts(released: list[tuple[RtpPacket, PacketInfo]] | None) -> list[int] | None:
    return None if released is None else [info.ext for _, info in released]


def test_a_keyframe_arriving_in_order_starts_the_forward_at_once() -> None:
    wait = KeyframeWait()
    assert wait.offer(*arrival(10, start=True)) is None  # a delta frame: keep waiting
    assert wait.offer(*arrival(11)) is None
    assert exts(wait.offer(*arrival(12, start=True, key=True))) == [12]
    assert wait.held == 0  # the delta frame before the keyframe is never sent


def test_a_keyframe_whose_first_packet_is_repaired_late_is_forwarded_whole() -> None:
    wait = KeyframeWait()
    # 20 (the keyframe's first packet) was lost upstream; the rest and the next
    # frame arrive first, then the SFU's own NACK brings 20 back
    for ext in (21, 22, 24, 23):
        assert wait.offer(*arrival(ext, start=ext == 23)) is None
    assert exts(wait.offer(*arrival(20, start=True, key=True))) == [20, 21, 22, 23, 24]
    assert wait.held == 0


def test_only_packets_held_since_the_last_reset_are_released() -> None:
    wait = KeyframeWait()
    wait.offer(*arrival(31))  # held before the gate closed again
    wait.reset()  # e.g. the gate re-opened: older packets must never be sent
    wait.offer(*arrival(32))
    assert exts(wait.offer(*arrival(30, start=True, key=True))) == [30, 32]


def test_what_is_held_is_bounded() -> None:
    wait = KeyframeWait(limit=4)
    for ext in range(1, 11):
        wait.offer(*arrival(ext))
    assert wait.held == 4
    assert exts(wait.offer(*arrival(0, start=True, key=True))) == [0, 7, 8, 9, 10]
