"""Real Chromium publishes RED (RFC 2198) through the SFU, and Chromium plays what it gets.

The server's offer lists ``audio/red`` (fmtp ``<opus>/<opus>``) before Opus; two
Chromium pages in the lobby hear each other. Checked: both answers accept RED,
the SFU receives RED packets from the browsers (none refused), and each page's
getStats shows the other's audio arriving and being played (samples
received; Chromium's stats name the codec it decodes, Opus,
so that the SFU sends them RED is read on the server).
"""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Browser, Page

from media.aiortc_internals import RED_PAYLOAD_TYPE
from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from tests.e2e.browser import seat
from tests.live_server import LiveServer

#: the first audio m-section's codec order in the offer and the answer
AUDIO_CODECS_JS = """() => {
  const pc = window.__caucusPc;
  const codecs = (sdp) => {
    const section = sdp.split(/\\r?\\nm=/).find((m) => /^(m=)?audio/.test(m));
    const rtpmap = section.split(/\\r?\\n/).filter((l) => l.startsWith("a=rtpmap:"));
    const fmtp = section.split(/\\r?\\n/).filter((l) => l.startsWith("a=fmtp:"));
    return { rtpmap: rtpmap.map((l) => l.split(" ")[1].split("/")[0].toLowerCase()), fmtp };
  };
  return { offer: codecs(pc.remoteDescription.sdp), answer: codecs(pc.localDescription.sdp) };
}"""

#: inbound audio from the other seat: packets, samples, concealment and the codec in use
INBOUND_AUDIO_JS = """async (from) => {
  const pc = window.__caucusPc, tracks = window.__caucusTracks || {};
  const stats = await pc.getStats();
  const out = [];
  stats.forEach((s) => {
    if (s.type !== "inbound-rtp" || s.kind !== "audio" || !tracks[s.mid]) return;
    if (tracks[s.mid].seat !== from) return;
    const codec = s.codecId && stats.get(s.codecId);
    out.push({
      packets: s.packetsReceived || 0,
      lost: s.packetsLost || 0,
      samples: s.totalSamplesReceived || 0,
      concealed: s.concealedSamples || 0,
      codec: codec ? codec.mimeType : null,
      sdpFmtpLine: codec ? codec.sdpFmtpLine : null,
    });
  });
  return out[0] || null;
}"""

#: 3 s of audio: 150 packets of 20 ms
MIN_PACKETS = 150
FLOW_S = 30.0
WARM_PACKETS = 50


async def _heard(page: Page, other: str) -> dict[str, Any]:
    """The page's inbound audio from ``other`` over MIN_PACKETS packets, counted from
    once it flows (WARM_PACKETS in: the jitter buffer's start-up is not the subject).

    Bounded polling of the browser's getStats (another process; 4 samples a second)."""
    base: dict[str, Any] | None = None
    async with asyncio.timeout(FLOW_S):
        while True:
            audio = await page.evaluate(INBOUND_AUDIO_JS, other)
            if audio is not None and base is None and audio["packets"] >= WARM_PACKETS:
                base = audio
            if base is not None and audio["packets"] - base["packets"] >= MIN_PACKETS:
                for counter in ("packets", "lost", "samples", "concealed"):
                    audio[counter] -= base[counter]
                return dict(audio)
            await asyncio.sleep(0.25)


async def test_chromium_publishes_red_and_hears_red_through_the_sfu(
    browser: Browser, media_server: LiveServer
) -> None:
    room = await media_server.simulation()
    pages = {s: await seat(browser, media_server, room, s) for s in ("mediator", "party_a")}
    for page in pages.values():
        await page.page.wait_for_function(
            "() => window.__caucusPc && window.__caucusPc.connectionState === 'connected'"
        )
    for name, page in pages.items():
        codecs: dict[str, Any] = await page.page.evaluate(AUDIO_CODECS_JS)
        assert codecs["offer"]["rtpmap"][:2] == ["red", "opus"], (name, codecs)
        assert "red" in codecs["answer"]["rtpmap"], (name, codecs)
    heard: dict[str, Any] = {}
    for name, other in (("mediator", "party_a"), ("party_a", "mediator")):
        heard[name] = await _heard(pages[name].page, other)
    stats = media_server.sfu.stats
    print(f"\nSFU: RED packets in {stats.red_in}, refused {stats.red_refused}; heard {heard}")
    assert stats.red_in >= MIN_PACKETS  # the browsers send RED, not plain Opus
    assert stats.red_refused == 0
    for name, other in (("mediator", "party_a"), ("party_a", "mediator")):
        # sent as RED (the subscriber's answer kept it first); Chromium unwraps it
        # in its jitter buffer and reports the codec it decodes, Opus
        consumer = media_server.sfu.participant(room, SeatId(name)).consumers[
            (SeatId(other), MediaKind.AUDIO)
        ]
        assert consumer._writer.payload_type == RED_PAYLOAD_TYPE
        audio = heard[name]
        assert audio["codec"] == "audio/opus", (name, audio)
        # played: samples came out of the decoder (concealment is printed, not judged:
        # on this shared 2-core machine it measures the load more than the link)
        assert audio["samples"] > 0 and audio["lost"] == 0, (name, audio)
    for page in pages.values():
        assert page.errors == []
        await page.context.close()
