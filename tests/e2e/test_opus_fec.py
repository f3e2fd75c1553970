"""A real Chromium publisher is asked for Opus in-band FEC, and its answer agrees."""

from __future__ import annotations

from playwright.async_api import Browser

from tests.e2e.browser import seat
from tests.live_server import LiveServer

#: the Opus fmtp line of each description the page's peer connection holds
OPUS_FMTP_JS = """() => {
  const pc = window.__caucusPc;
  const fmtp = (sdp) => {
    const rtpmap = sdp.split(/\\r?\\n/).find((l) => /^a=rtpmap:\\d+ opus\\/48000/i.test(l));
    if (!rtpmap) return null;
    const pt = rtpmap.slice("a=rtpmap:".length).split(" ")[0];
    return sdp.split(/\\r?\\n/).find((l) => l.startsWith(`a=fmtp:${pt} `)) || "";
  };
  return { offer: fmtp(pc.remoteDescription.sdp), answer: fmtp(pc.localDescription.sdp) };
}"""


async def test_chromium_answers_the_servers_opus_offer_keeping_in_band_fec(
    browser: Browser, media_server: LiveServer
) -> None:
    room = await media_server.simulation()
    party = await seat(browser, media_server, room, "party_a")
    page = party.page
    await page.wait_for_function(
        "() => window.__caucusPc && window.__caucusPc.connectionState === 'connected'"
    )
    fmtp = await page.evaluate(OPUS_FMTP_JS)
    assert "useinbandfec=1" in fmtp["offer"], fmtp
    assert "useinbandfec=1" in fmtp["answer"], fmtp
    assert party.errors == []
    await party.context.close()
