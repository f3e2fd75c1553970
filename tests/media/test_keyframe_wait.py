"""Where a restarting video forward begins (no network: the decision alone)."""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from media.keyframe_wait import KeyframeWait
from media.packet_info import PacketInfo


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


def test_nothing_from_before_the_wait_began_is_forwarded_even_when_repaired_late() -> None:
    wait = KeyframeWait()
    wait.reset(floor=105)  # the gate opens: the SFU had seen up to 105 (inside the caucus)
    # 100, a keyframe's first packet from inside the caucus, is repaired only now
    assert wait.offer(*arrival(100, start=True, key=True)) is None
    assert wait.offer(*arrival(104)) is None  # a late repair from the caucus, too
    assert wait.held == 0
    assert wait.offer(*arrival(106, start=True)) is None  # after the gate opened: held
    assert exts(wait.offer(*arrival(108, start=True, key=True))) == [108]


def test_a_reset_forgets_what_was_held() -> None:
    wait = KeyframeWait()
    wait.offer(*arrival(31))
    wait.reset(floor=None)
    wait.offer(*arrival(32))
    assert exts(wait.offer(*arrival(30, start=True, key=True))) == [30, 32]


def test_what_is_held_is_bounded_and_never_released_with_a_hole() -> None:
    wait = KeyframeWait(limit=4)
    for ext in range(1, 11):
        wait.offer(*arrival(ext))
    assert wait.held == 4  # 1..6 were dropped
    # a keyframe at 0 would need 1..6: passed over, the wait goes on
    assert wait.offer(*arrival(0, start=True, key=True)) is None
    assert exts(wait.offer(*arrival(11, start=True, key=True))) == [11]
