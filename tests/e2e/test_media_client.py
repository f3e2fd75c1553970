"""media.js against a server-shaped offerer inside the page (the server sends no offers yet).

A second RTCPeerConnection in the same page plays the SFU: it offers two receive-only
m-sections for the page's microphone and camera and forwards another seat's audio and
video, as media/seat_connection.py will. The page must answer, publish on the right
m-sections, trickle ICE both ways and name the incoming tracks by seat.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser

from tests.e2e.browser import open_page
from tests.live_server import LiveServer

HARNESS = """
async ({ mapping, audioOnly }) => {
  const { createMedia } = await import("/static/js/media.js");
  const local = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const other = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const server = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  const pubAudio = server.addTransceiver("audio", { direction: "recvonly" });
  const pubVideo = server.addTransceiver("video", { direction: "recvonly" });
  const forwarded = new MediaStream(other.getTracks());
  const fwdAudio = server.addTransceiver(other.getAudioTracks()[0],
    { direction: "sendonly", streams: [forwarded] });
  const fwdVideo = server.addTransceiver(other.getVideoTracks()[0],
    { direction: "sendonly", streams: [forwarded] });
  const t = { server, local, pubAudio, pubVideo, tracks: [], stats: {}, sent: [], errors: [] };
  window.__media = t;
  const socket = {
    connected: true,
    timeout() { return this; },
    async emitWithAck(event, payload) {
      t.sent.push(event);
      if (event === "media_answer") await server.setRemoteDescription(payload);
      if (event === "media_ice" && payload.candidate) await server.addIceCandidate(payload);
      return { ok: true };
    },
  };
  const media = createMedia({
    socket,
    onTrack: (seat, kind) => t.tracks.push([seat, kind]),
    onStats: (seat, stats) => { t.stats[seat] = stats; },
    onError: (message) => t.errors.push(message),
  });
  t.media = media;
  server.addEventListener("icecandidate", ({ candidate }) => {
    if (candidate) media.handleIce({ candidate: candidate.candidate, sdpMid: candidate.sdpMid,
                                     sdpMLineIndex: candidate.sdpMLineIndex });
  });
  media.setLocalStream(local);
  media.setAudioOnly(audioOnly);
  const offer = await server.createOffer();
  await server.setLocalDescription(offer);
  let payload;
  if (mapping) {
    payload = { type: "offer", sdp: server.localDescription.sdp,
      publish: { audio: pubAudio.mid, video: pubVideo.mid },
      tracks: { [fwdAudio.mid]: { seat: "party_b", kind: "audio", active: true },
                [fwdVideo.mid]: { seat: "party_b", kind: "video", active: true } } };
  } else {
    // No maps: publish slots from the SDP directions, seats from the msid stream id.
    const sdp = server.localDescription.sdp.split(forwarded.id).join("party_b");
    payload = { type: "offer", sdp };
  }
  await media.handleOffer(payload);
  return { pubAudio: pubAudio.mid, pubVideo: pubVideo.mid };
}
"""

RECEIVED_BY_SERVER = """
async (kind) => {
  const t = window.__media;
  const receiver = kind === "audio" ? t.pubAudio.receiver : t.pubVideo.receiver;
  const report = await receiver.getStats();
  let packets = 0;
  report.forEach((s) => { if (s.type === "inbound-rtp") packets += s.packetsReceived || 0; });
  return packets;
}
"""


@pytest.mark.parametrize("mapping", [True, False], ids=["offer-maps", "sdp-only"])
async def test_the_page_answers_publishes_and_names_incoming_tracks_by_seat(
    server: LiveServer, browser: Browser, mapping: bool
) -> None:
    page = (await open_page(browser, "party_a", f"{server.url}/join/harness")).page
    await page.evaluate(HARNESS, {"mapping": mapping, "audioOnly": False})
    await page.wait_for_function("() => window.__media.server.connectionState === 'connected'")

    # Our microphone and camera arrive on the m-sections the server set aside for them.
    for kind in ("audio", "video"):
        await page.wait_for_function(f"() => ({RECEIVED_BY_SERVER})('{kind}').then(n => n > 0)")
    t: dict[str, Any] = await page.evaluate(
        "({tracks: window.__media.tracks, sent: window.__media.sent,"
        " errors: window.__media.errors,"
        " directions: window.__media.server.getTransceivers().map(x => x.currentDirection)})"
    )
    assert sorted(map(tuple, t["tracks"])) == [("party_b", "audio"), ("party_b", "video")]
    assert t["directions"] == ["recvonly", "recvonly", "sendonly", "sendonly"]
    assert "media_answer" in t["sent"] and "media_ice" in t["sent"]  # answered, trickled
    assert t["errors"] == []

    # Connection figures per seat and for our own uplink, from getStats().
    await page.wait_for_function(
        "() => window.__media.stats.party_b && window.__media.stats.self"
        " && typeof window.__media.stats.party_b.rttMs === 'number'"
    )
    stats: dict[str, Any] = await page.evaluate("window.__media.stats")
    assert 0 <= stats["party_b"]["lossPct"] <= 100
    assert stats["party_b"]["rttMs"] >= 0

    # Muting and turning the camera off keep the tracks: nothing is renegotiated.
    await page.evaluate(
        "window.__media.media.setMuted(true); window.__media.media.setCamera(false)"
    )
    after: dict[str, Any] = await page.evaluate(
        "({audio: window.__media.local.getAudioTracks()[0].enabled,"
        " video: window.__media.local.getVideoTracks()[0].enabled,"
        " answers: window.__media.sent.filter(e => e === 'media_answer').length})"
    )
    assert after == {"audio": False, "video": False, "answers": 1}
    await page.evaluate("window.__media.media.close(); window.__media.server.close()")


async def test_audio_only_publishes_no_camera_and_declines_incoming_video(
    server: LiveServer, browser: Browser
) -> None:
    page = (await open_page(browser, "party_a", f"{server.url}/join/harness")).page
    await page.evaluate(HARNESS, {"mapping": True, "audioOnly": True})
    await page.wait_for_function("() => window.__media.server.connectionState === 'connected'")
    await page.wait_for_function(f"() => ({RECEIVED_BY_SERVER})('audio').then(n => n > 0)")
    directions = await page.evaluate(
        "window.__media.server.getTransceivers().map(x => x.currentDirection)"
    )
    # Server side: our camera's slot and the forwarded video are both inactive.
    assert directions == ["recvonly", "inactive", "sendonly", "inactive"]
    tracks = await page.evaluate("window.__media.tracks")
    assert ("party_b", "audio") in map(tuple, tracks)
    await page.evaluate("window.__media.media.close(); window.__media.server.close()")
