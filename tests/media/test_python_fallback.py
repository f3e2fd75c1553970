"""Where the C extensions were not built, the same steps run in Python: a whole
publisher → SFU → subscriber path with every native piece off (``CAUCUS_RTP_SEND``,
``CAUCUS_RTP_PARSE``, ``CAUCUS_UPLINK_ESTIMATE`` = ``python``) decodes the publisher's
tone and colour, as the rest of the suite shows with them on."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest

from media.aiortc_internals import native_parse, native_send, native_uplink
from sessions.media_kinds import MediaKind
from tests.media.media_harness import media_room
from tests.media.synthetic import MEDIATOR, PARTY_A, ROOM, joint
from tests.media.test_passthrough import _decoded_enough

PYTHON = {
    name: "python" for name in ("CAUCUS_RTP_SEND", "CAUCUS_RTP_PARSE", "CAUCUS_UPLINK_ESTIMATE")
}


@pytest.fixture
def python_steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in PYTHON.items():
        monkeypatch.setenv(name, value)
    native_parse.install(PYTHON)
    yield
    native_parse.install({})  # back to the default for the tests after


async def test_every_step_in_python_forwards_what_it_receives(python_steps: None) -> None:
    assert native_parse.installed() == "python"
    assert native_parse.unprotect is native_parse.python_unprotect
    assert native_send.rtp_send() == native_uplink.uplink_estimate() == "python"
    async with media_room([MEDIATOR, PARTY_A]) as room:
        await room.sfu.apply_audience(ROOM, joint([MEDIATOR, PARTY_A]))
        await room.wait_connected(10)
        client = room.clients[MEDIATOR]
        video = client.mid_of(PARTY_A, MediaKind.VIDEO)
        audio = client.mid_of(PARTY_A, MediaKind.AUDIO)
        assert video is not None and audio is not None
        await client.wait_until(functools.partial(_decoded_enough, client, video, audio), 10)
        seats = [seat for _, seat in client.decoded[video] + client.decoded[audio]]
        assert seats.count(PARTY_A) >= 0.9 * len(seats)
