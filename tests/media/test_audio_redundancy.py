"""RED on the forwarding path: primaries out, lost packets rebuilt, per-subscriber shape.

The unwrapper runs with the receiver's real NACK scheduler and frame assembler,
fed as aiortc's receive path feeds them (the scheduler sees each packet first).
"""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from media import red
from media.aiortc_internals import RED_PAYLOAD_TYPE, opus_payload_type
from media.assembler import AssembledFrame, FrameAssembler
from media.audio_redundancy import RedUnwrapper, SubscriberAudio
from media.latency import ForwardingStats
from media.nack import NackScheduler

OPUS = opus_payload_type()
SSRC = 0x1234


def _opus(seq: int) -> bytes:
    return f"opus-{seq}".encode()


def _red_packet(seq: int, *, with_previous: bool = True) -> RtpPacket:
    blocks = [red.RedBlock(OPUS, 960, _opus(seq - 1))] if with_previous else []
    payload = red.build(OPUS, _opus(seq), blocks)
    return RtpPacket(
        payload_type=RED_PAYLOAD_TYPE,
        sequence_number=seq,
        timestamp=seq * 960,
        ssrc=SSRC,
        payload=payload,
    )


class Receiver:
    """The audio half of media.receiving.forward_receiver, driven packet by packet."""

    def __init__(self) -> None:
        self.now = 100.0
        self.stats = ForwardingStats()
        self.nack = NackScheduler(lambda: self.now, stats=self.stats)
        self.unwrapper = RedUnwrapper(
            FrameAssembler(ordered=False, clock=lambda: self.now), self.nack, self.stats
        )
        self.handed_on: list[int] = []
        self.unwrapper.on_packet = lambda packet, ext, at: self.handed_on.append(
            packet.sequence_number
        )

    def receive(self, packet: RtpPacket) -> list[AssembledFrame]:
        packet._data = packet.payload  # type: ignore[attr-defined]  # aiortc's depayload
        self.nack.add(packet)
        _, frame = self.unwrapper.add(packet)
        return ([frame] if frame is not None else []) + self.unwrapper.drain()


def test_red_packets_come_out_as_their_opus_primaries() -> None:
    receiver = Receiver()
    frames = [f for seq in range(10, 14) for f in receiver.receive(_red_packet(seq))]
    assert [f.data for f in frames] == [_opus(seq) for seq in range(10, 14)]
    assert [f.timestamp for f in frames] == [seq * 960 for seq in range(10, 14)]
    assert receiver.handed_on == [10, 11, 12, 13]
    assert receiver.stats.audio_recovered == 0


def test_a_lost_packet_is_rebuilt_from_the_next_one_and_handed_on_first() -> None:
    receiver = Receiver()
    receiver.receive(_red_packet(10))
    receiver.now += 0.02
    receiver.receive(_red_packet(11))  # 12 is lost on the way
    receiver.now += 0.04
    frames = receiver.receive(_red_packet(13))
    assert [(f.data, f.timestamp) for f in frames] == [
        (_opus(12), 12 * 960),
        (_opus(13), 13 * 960),
    ]
    assert receiver.handed_on == [10, 11, 12, 13]
    assert receiver.stats.audio_recovered == 1
    assert not receiver.nack.is_pending(12)  # not NACKed again
    # the NACKed copy that arrives later is a duplicate now: nothing comes out twice
    receiver.now += 0.3
    assert receiver.receive(_red_packet(12)) == []
    assert receiver.handed_on == [10, 11, 12, 13]


def test_a_packet_that_arrived_is_not_rebuilt_again() -> None:
    receiver = Receiver()
    for seq in range(10, 20):
        receiver.receive(_red_packet(seq))
    assert receiver.handed_on == list(range(10, 20))
    assert receiver.stats.audio_recovered == 0


def test_two_lost_in_a_row_leave_the_older_one_to_nack() -> None:
    receiver = Receiver()
    receiver.receive(_red_packet(10))
    frames = receiver.receive(_red_packet(13))  # 11 and 12 lost: 13 carries only 12
    assert [f.data for f in frames] == [_opus(12), _opus(13)]
    assert receiver.nack.is_pending(11) and not receiver.nack.is_pending(12)


def test_plain_opus_passes_untouched() -> None:
    receiver = Receiver()
    packet = RtpPacket(payload_type=OPUS, sequence_number=5, timestamp=0, ssrc=SSRC, payload=b"o")
    assert [f.data for f in receiver.receive(packet)] == [b"o"]


def test_malformed_red_is_dropped_counted_and_never_handed_on() -> None:
    receiver = Receiver()
    hostile = [
        b"",
        b"\xff\xff",
        bytes([0x80 | OPUS]) + ((960 << 10) | 900).to_bytes(3, "big") + bytes([OPUS]) + b"x",
        red.build(0, b"a primary that is not Opus"),
    ]
    for seq, payload in enumerate(hostile, start=1):
        packet = RtpPacket(
            payload_type=RED_PAYLOAD_TYPE,
            sequence_number=seq,
            timestamp=0,
            ssrc=SSRC,
            payload=payload,
        )
        assert receiver.receive(packet) == []
    assert receiver.handed_on == []
    assert receiver.stats.red_refused == len(hostile)


def _forwarded(seq: int, *, red_in: bool) -> RtpPacket:
    if red_in:
        packet = _red_packet(seq)
        packet._data = _opus(seq)  # type: ignore[attr-defined]  # what the unwrapper stored
        return packet
    packet = RtpPacket(
        payload_type=OPUS, sequence_number=seq, timestamp=seq * 960, ssrc=SSRC, payload=_opus(seq)
    )
    packet._data = packet.payload  # type: ignore[attr-defined]
    return packet


def test_a_subscriber_without_red_gets_the_primary_only() -> None:
    audio = SubscriberAudio(lambda: OPUS)
    assert audio.payload(_forwarded(7, red_in=True)) == _opus(7)
    assert audio.payload(_forwarded(8, red_in=False)) == _opus(8)


def test_a_subscriber_with_red_gets_the_publishers_red_as_it_came() -> None:
    audio = SubscriberAudio(lambda: RED_PAYLOAD_TYPE)
    packet = _forwarded(7, red_in=True)
    assert audio.payload(packet) == packet.payload


def test_plain_opus_is_wrapped_for_a_red_subscriber_with_the_previous_payload() -> None:
    audio = SubscriberAudio(lambda: RED_PAYLOAD_TYPE)
    first = red.parse(audio.payload(_forwarded(7, red_in=False)))
    assert first == red.RedPayload((), red.RedBlock(OPUS, 0, _opus(7)))
    second = red.parse(audio.payload(_forwarded(8, red_in=False)))
    assert second is not None
    assert second.redundant == (red.RedBlock(OPUS, 960, _opus(7)),)
    assert second.primary.data == _opus(8)
    audio.restart()  # another stream: no block from before it
    third = red.parse(audio.payload(_forwarded(20, red_in=False)))
    assert third is not None and third.redundant == ()


def test_a_thinned_red_subscriber_gets_red_with_the_primary_alone_until_restored() -> None:
    audio = SubscriberAudio(lambda: RED_PAYLOAD_TYPE)
    assert audio.takes_red
    audio.thin = True
    alone = red.RedPayload((), red.RedBlock(OPUS, 0, _opus(7)))
    assert red.parse(audio.payload(_forwarded(7, red_in=True))) == alone
    assert red.parse(audio.payload(_forwarded(8, red_in=False))) == red.RedPayload(
        (), red.RedBlock(OPUS, 0, _opus(8))
    )
    audio.thin = False
    restored = _forwarded(9, red_in=True)
    assert audio.payload(restored) == restored.payload  # the publisher's copy again


def test_thinning_leaves_a_plain_opus_subscriber_plain() -> None:
    audio = SubscriberAudio(lambda: OPUS)
    assert not audio.takes_red  # media.downlink thins only voices sent as RED
    audio.thin = True
    assert audio.payload(_forwarded(7, red_in=True)) == _opus(7)
