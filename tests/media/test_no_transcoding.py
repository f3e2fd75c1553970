"""The SFU never constructs a decoder, an encoder or a codec context.

Spies (not mocks: they record and delegate) sit on every way aiortc and PyAV
create codecs: ``get_encoder``/``get_decoder`` where aiortc calls them, every
``Encoder``/``Decoder`` subclass constructor and ``CodecContext.create``.  Each
construction is attributed to the server if the call stack runs through
media/ code or through a sender, receiver or decoder queue owned by one of the
SFU's peer connections.  The clients' own encoders and decoders (which the
spies must see, proving they work) are the control group.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import aiortc.codecs
import aiortc.codecs.base
import aiortc.codecs.h264
import aiortc.codecs.opus
import aiortc.codecs.vpx
import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
import av
import pytest

import media
from media.sfu import Sfu
from sessions.media_kinds import MediaKind
from tests.media.media_harness import media_room
from tests.media.synthetic import COACH, MEDIATOR, PARTY_A, ROOM, caucus, joint

MEDIA_DIR = str(Path(media.__file__).parent)
# per-object hooks the synthetic clients use too: attributed by their objects
SHARED_HOOKS = str(Path(media.__file__).parent / "aiortc_internals") + os.sep


@dataclass
class Construction:
    what: str
    stack_objects: list[Any]
    media_frames: list[str]


@dataclass
class CodecSpy:
    constructions: list[Construction] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, what: str) -> None:
        objects: list[Any] = []
        media_frames: list[str] = []
        frame: FrameType | None = sys._getframe(2)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith(MEDIA_DIR) and not filename.startswith(SHARED_HOOKS):
                media_frames.append(f"{frame.f_code.co_filename}:{frame.f_lineno}")
            for name in ("self", "input_q", "sender", "receiver"):
                if name in frame.f_locals:
                    objects.append(frame.f_locals[name])
            frame = frame.f_back
        with self.lock:
            self.constructions.append(Construction(what, objects, media_frames))

    def wrap(self, what: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def spy(*args: Any, **kwargs: Any) -> Any:
            self.record(what)
            return function(*args, **kwargs)

        return spy


class _CodecContextSpy:
    def __init__(self, spy: CodecSpy, real: Any) -> None:
        self._spy = spy
        self._real = real

    def create(self, *args: Any, **kwargs: Any) -> Any:
        self._spy.record(f"CodecContext.create{args}")
        return self._real.create(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@pytest.fixture
def codec_spy(monkeypatch: pytest.MonkeyPatch) -> CodecSpy:
    spy = CodecSpy()
    for module in (aiortc.codecs, aiortc.rtcrtpsender):
        monkeypatch.setattr(module, "get_encoder", spy.wrap("get_encoder", module.get_encoder))
    for module in (aiortc.codecs, aiortc.rtcrtpreceiver):
        monkeypatch.setattr(module, "get_decoder", spy.wrap("get_decoder", module.get_decoder))
    for base in (aiortc.codecs.base.Encoder, aiortc.codecs.base.Decoder):
        for cls in _subclasses(base):
            if "__init__" in vars(cls):
                monkeypatch.setattr(cls, "__init__", spy.wrap(cls.__name__, vars(cls)["__init__"]))
    real = av.CodecContext
    monkeypatch.setattr(av, "CodecContext", _CodecContextSpy(spy, real))
    for module in (aiortc.codecs.opus, aiortc.codecs.vpx, aiortc.codecs.h264):
        if hasattr(module, "CodecContext"):
            monkeypatch.setattr(module, "CodecContext", _CodecContextSpy(spy, real))
    return spy


def _server_objects(sfu: Sfu) -> list[Any]:
    objects: list[Any] = [sfu]
    for router in sfu.rooms.values():
        objects.append(router)
        for participant in router.participants.values():
            objects += [participant, participant.pc]
            for transceiver in participant.pc.getTransceivers():
                objects += [transceiver, transceiver.sender, transceiver.receiver]
                objects.append(transceiver.receiver._RTCRtpReceiver__decoder_queue)  # type: ignore[attr-defined]
            objects += list(participant.consumers.values()) + list(participant.producers.values())
    return objects


async def test_the_sfu_forwards_without_constructing_any_codec(codec_spy: CodecSpy) -> None:
    async with media_room([MEDIATOR, PARTY_A, COACH]) as room:
        await room.sfu.apply_audience(ROOM, joint([MEDIATOR, PARTY_A, COACH]))
        await room.wait_connected(10)
        mediator = room.clients[MEDIATOR]
        video = mediator.mid_of(PARTY_A, MediaKind.VIDEO)
        assert video is not None
        await room.wait_until(lambda: len(mediator.decoded[video]) >= 30, timeout=10)
        # a switch: keyframe requests are relayed, consumers gated and re-opened
        await room.sfu.apply_audience(ROOM, caucus(PARTY_A, [MEDIATOR, PARTY_A, COACH]))
        seen = len(mediator.decoded[video])
        await room.wait_until(lambda: len(mediator.decoded[video]) >= seen + 30, timeout=10)
        await room.sfu.apply_audience(ROOM, joint([MEDIATOR, PARTY_A, COACH]))
        coach = room.clients[COACH]
        coach_video = coach.mid_of(MEDIATOR, MediaKind.VIDEO)
        assert coach_video is not None
        seen = len(coach.decoded[coach_video])
        await room.wait_until(lambda: len(coach.decoded[coach_video]) >= seen + 30, timeout=10)
        server = {id(o) for o in _server_objects(room.sfu)}

    on_server = [
        c
        for c in codec_spy.constructions
        if c.media_frames or any(id(o) in server for o in c.stack_objects)
    ]
    assert not on_server, [(c.what, c.media_frames) for c in on_server]
    # the spies work: the clients' encoders and decoders were all seen
    seen_names = {c.what for c in codec_spy.constructions}
    assert {"Vp8Encoder", "OpusEncoder", "Vp8Decoder", "OpusDecoder"} <= seen_names
    assert any(name.startswith("CodecContext.create") for name in seen_names)
