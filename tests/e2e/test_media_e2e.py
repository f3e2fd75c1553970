"""Real media end to end: four Chromium pages against the media-enabled server.

A mediator, two parties and a coach join; each page's RTCPeerConnection
(window.__caucusPc, set by media.js) must receive audio and video from exactly
the seats the audience function allows, phase after phase: joint session, a
caucus with party A (party B's media from the mediator and party A stops), and
joint again (it resumes). Inbound streams are named by seat through the mid ->
seat map of the server's latest offer (window.__caucusTracks).

"Receiving" means counters rise between samples: audio packetsReceived and
video framesDecoded. "Not receiving" means no inbound counter of that seat
(audio or video packets, decoded frames) changes for QUIET_MS while the page's
allowed seats keep flowing. Every wait is a bounded Playwright wait_for_function
poll of getStats(); nothing sleeps.
"""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Browser, Error, expect

from sessions.audience import audience, sources_of
from sessions.ids import RoomId, SeatId
from tests.e2e.browser import (
    VIDEO_PLAYING,
    SeatPage,
    all_show_phase,
    expect_tiles,
    phase_button,
    screenshot,
    seat_all,
)
from tests.live_server import LiveServer
from web.keys import DIRECTORY

PUBLISHERS = ["mediator", "party_a", "party_b", "coach"]
TRAINEES = {"mediator", "party_a", "party_b"}
#: who receives whom (docs/protocol.md), checked against sessions/audience.py too
EXPECTED: dict[str, dict[str, set[str]]] = {
    "joint": {
        "mediator": {"party_a", "party_b"},
        "party_a": {"mediator", "party_b"},
        "party_b": {"mediator", "party_a"},
        "coach": TRAINEES,
    },
    "caucus:party_a": {
        "mediator": {"party_a"},
        "party_a": {"mediator"},
        "party_b": set(),
        "coach": TRAINEES,
    },
}
#: a flowing seat must add this many audio packets (20 ms each) and decoded video frames
MIN_AUDIO_PACKETS, MIN_VIDEO_FRAMES = 25, 10
#: a stopped seat's counters must not move for this long while the others flow
QUIET_MS = 1500
#: first media: ICE, DTLS and a renegotiation per publisher that joins after you
CONNECT_MS = 30_000
#: a phase change's effect on the packets, at most: a wait that ends as soon as the
#: figures are in.  On a starved 2-core host Chromium's encoders drop to ~1 frame/s
#: (CI, 2026-12-03: the coach decoded 12 of party A's frames in 18 s), so ten frames
#: can take longer than 15 s where a quiet host takes 2 s.
FLOW_MS = 30_000

PROBE = """
() => {
  if (window.__probe) return;
  const marks = {};
  // {seat: {audio, video, videoPackets}} for every inbound stream the latest offer names.
  async function sample() {
    const pc = window.__caucusPc, tracks = window.__caucusTracks || {};
    const out = {};
    if (!pc || pc.connectionState === "closed") return out;
    (await pc.getStats()).forEach((s) => {
      if (s.type !== "inbound-rtp" || !tracks[s.mid]) return;
      const seat = tracks[s.mid].seat;
      const c = out[seat] || (out[seat] = { audio: 0, video: 0, videoPackets: 0 });
      if (s.kind === "audio") c.audio += s.packetsReceived || 0;
      else { c.video += s.framesDecoded || 0; c.videoPackets += s.packetsReceived || 0; }
    });
    return out;
  }
  const zero = { audio: 0, video: 0, videoPackets: 0 };
  const same = (a, b) =>
    a.audio === b.audio && a.video === b.video && a.videoPackets === b.videoPackets;
  window.__probe = {
    sample,
    async mark(key) {
      const base = await sample();
      marks[key] = { base, last: base, quietSince: performance.now() };
    },
    // Polled by wait_for_function, which does not await promises: each call
    // starts one getStats() (if none is running) and answers from the last one.
    // True-ish (the figures) once every `flowing` seat has advanced enough since
    // mark(key) and no `still` seat's counters have moved for quietMs.
    check(key, flowing, still, minAudio, minVideo, quietMs) {
      const m = marks[key];
      if (!m.busy && !m.done) {
        m.busy = true;
        sample().then((now) => {
          const t = performance.now();
          if (still.some((s) => !same(now[s] || zero, m.last[s] || zero))) m.quietSince = t;
          m.last = now;
          const delta = {};
          for (const s of Object.keys(now)) {
            const a = now[s], b = m.base[s] || zero;
            delta[s] = { audio: a.audio - b.audio, video: a.video - b.video,
                         videoPackets: a.videoPackets - b.videoPackets };
          }
          const flows = flowing.every((s) =>
            delta[s] && delta[s].audio >= minAudio && delta[s].video >= minVideo);
          const quiet = t - m.quietSince >= quietMs;
          m.result = { delta, quietMs: Math.round(t - m.quietSince), flows, quiet };
          m.done = flows && quiet;
        }).finally(() => { m.busy = false; });
      }
      return m.done ? m.result : false;
    },
    result: (key) => marks[key] && marks[key].result,
  };
}
"""

# Whether Chromium accepts the server's latest offer, tried on a throwaway peer
# connection (media.js reports a refused offer only as a console warning).
OFFER_REFUSED = """
async () => {
  const offers = (window.__caucusLog || []).filter((e) => e.event === "media_offer");
  if (!offers.length) return "no media_offer reached the page";
  const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  try {
    await pc.setRemoteDescription({ type: "offer", sdp: offers[offers.length - 1].data.sdp });
    return null;
  } catch (error) {
    return String(error.message || error);
  } finally {
    pc.close();
  }
}
"""


# Polled like the probe: how many of the page's inbound streams (packets received) have
# a remote-outbound-rtp, i.e. Chromium took a sender report of that SSRC; the server
# sends a connection's sender reports together, one compound RTCP packet per interval.
REPORTED = """
(want) => {
  const r = window.__reported || (window.__reported = {});
  if (!r.busy) {
    r.busy = true;
    window.__caucusPc.getStats().then((stats) => {
      const inbound = [], reported = new Set();
      stats.forEach((s) => {
        if (s.type === "inbound-rtp" && s.packetsReceived > 0) inbound.push(s.ssrc);
        if (s.type === "remote-outbound-rtp" && s.reportsSent > 0) reported.add(s.ssrc);
      });
      const taken = inbound.filter((ssrc) => reported.has(ssrc));
      r.figures = { inbound: inbound.length, reported: taken.length };
    }).finally(() => { r.busy = false; });
  }
  return r.figures && r.figures.inbound >= want && r.figures.reported === r.figures.inbound;
}
"""


async def expect_media(
    pages: dict[str, SeatPage], phase: str, key: str, timeout_ms: float = FLOW_MS
) -> dict[str, Any]:
    """Every page receives exactly EXPECTED[phase]: those seats flow, all others stay still."""

    async def one(seat: str, p: SeatPage) -> dict[str, Any]:
        flowing = sorted(EXPECTED[phase][seat])
        still = sorted(set(PUBLISHERS) - {seat} - EXPECTED[phase][seat])
        await p.page.evaluate("(k) => window.__probe.mark(k)", key)
        try:
            handle = await p.page.wait_for_function(
                "([k, f, s, a, v, q]) => window.__probe.check(k, f, s, a, v, q)",
                arg=[key, flowing, still, MIN_AUDIO_PACKETS, MIN_VIDEO_FRAMES, QUIET_MS],
                polling=100,
                timeout=timeout_ms,
            )
        except Error as exc:
            last = await p.page.evaluate("(k) => window.__probe.result(k)", key)
            tracks = await p.page.evaluate("window.__caucusTracks")
            state = await p.page.evaluate("window.__caucusPc && window.__caucusPc.connectionState")
            raise AssertionError(
                f"{phase}: {seat} should receive {flowing} and not {still}; "
                f"since the mark: {last}; pc {state}; tracks {tracks}"
            ) from exc
        result: dict[str, Any] = await handle.json_value()
        assert result["flows"] and result["quiet"], (seat, result)
        return result

    figures = await asyncio.gather(*(one(s, p) for s, p in pages.items()))
    results = dict(zip(pages, figures, strict=True))
    for seat, result in results.items():  # shown by pytest on a failure (or with -s)
        print(f"{key}: {seat} got {result['delta']}; still for {result['quietMs']} ms")
    return results


async def expect_playing_tiles(pages: dict[str, SeatPage], phase: str) -> None:
    """The tile of every seat a page receives shows a playing <video>."""
    for seat, p in pages.items():
        received = sorted(EXPECTED[phase][seat])
        try:
            await p.page.wait_for_function(VIDEO_PLAYING, arg=received, timeout=FLOW_MS)
        except Error as exc:
            raise AssertionError(f"{phase}: {seat}'s tiles for {received} do not play") from exc


def published(server: LiveServer, room: str) -> dict[str, list[str]]:
    """What the SFU receives from each seat."""
    sfu = server.sfu
    return {
        seat: sorted(kind.value for kind in participant.published)
        for seat, participant in sfu.router(RoomId(room)).participants.items()
    }


def check_audience(server: LiveServer, room: str, phase: str) -> None:
    """The table above is what the server's audience function says for this phase."""
    live = server.app[DIRECTORY].peek(room)
    assert live is not None and str(live.room.phase) == phase
    routes = audience(live.room)
    for seat in PUBLISHERS:
        assert set(sources_of(routes, SeatId(seat))) == EXPECTED[phase][seat], seat


async def expect_receiving_state(pages: dict[str, SeatPage], phase: str) -> None:
    """Each page's latest room state lists the same seats as `receiving`."""
    for seat, p in pages.items():
        await p.page.wait_for_function(
            """([phase, want]) => {
                 const states = (window.__caucusLog || []).filter((e) => e.event === "room_state");
                 const s = states.length ? states[states.length - 1].data : null;
                 return Boolean(s && s.phase.name === phase
                   && JSON.stringify([...s.receiving].sort()) === JSON.stringify(want));
               }""",
            arg=[phase, sorted(EXPECTED[phase][seat])],
        )


async def test_each_page_receives_exactly_its_audience_through_joint_caucus_and_back(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    names = {"mediator": "Li Wei", "party_a": "Wanjiru Kamau", "party_b": "Diego Ramos"}
    pages = await seat_all(browser, server, room, {**names, "coach": "Dr Helen Brandt"})
    coach = pages["coach"]
    for seat, p in pages.items():
        refused = await p.page.evaluate(OFFER_REFUSED)
        assert refused is None, f"Chromium refuses the server's offer to {seat}: {refused}"
    for p in pages.values():
        await p.page.wait_for_function(
            "() => window.__caucusPc && window.__caucusPc.connectionState === 'connected'",
            timeout=CONNECT_MS,
        )
        # every other seat's audio and video has its m-section (so "still" is never vacuous)
        others = [s for s in PUBLISHERS if s != p.seat]
        try:
            await p.page.wait_for_function(
                """(seats) => {
                     const entries = Object.values(window.__caucusTracks || {});
                     return seats.every((seat) => ["audio", "video"].every((kind) =>
                       entries.some((e) => e.seat === seat && e.kind === kind && e.active)));
                   }""",
                arg=others,
                timeout=CONNECT_MS,
            )
        except Error as exc:
            tracks = await p.page.evaluate("window.__caucusTracks")
            raise AssertionError(
                f"{p.seat} is offered {tracks}, not every other seat; "
                f"the server has them publishing {published(server, room)}"
            ) from exc
        await p.page.evaluate(PROBE)

    # Joint session: trainees receive each other, the coach everyone, nobody the coach
    # (whom the trainees did receive in the lobby: that must stop too).
    await phase_button(coach, "joint").click()
    await all_show_phase(pages.values(), "Joint session")
    check_audience(server, room, "joint")
    await expect_receiving_state(pages, "joint")
    await expect_media(pages, "joint", "joint-1", timeout_ms=CONNECT_MS)
    await expect_playing_tiles(pages, "joint")
    # Chromium takes the server's sender reports for every stream it receives
    try:
        await coach.page.wait_for_function(REPORTED, arg=6, polling=100, timeout=FLOW_MS)
    except Error as exc:
        figures = await coach.page.evaluate("window.__reported && window.__reported.figures")
        raise AssertionError(f"the coach's sender reports taken: {figures}") from exc

    # Caucus with party A: party B's media from the mediator and party A stops;
    # mediator and party A keep each other; the coach still receives all three.
    await phase_button(coach, "caucus:party_a").click()
    caucus = "Private caucus with Amara Okafor"
    await all_show_phase(pages.values(), caucus)
    check_audience(server, room, "caucus:party_a")
    await expect_receiving_state(pages, "caucus:party_a")
    await expect_media(pages, "caucus:party_a", "caucus")
    await expect_tiles(pages["party_b"], [])
    await expect(pages["party_b"].page.locator("#away")).to_be_visible()
    await expect_playing_tiles(pages, "caucus:party_a")

    # Back to joint: party B receives the mediator and party A again.
    await phase_button(coach, "joint").click()
    await all_show_phase(pages.values(), "Joint session")
    check_audience(server, room, "joint")
    await expect_receiving_state(pages, "joint")
    await expect_media(pages, "joint", "joint-2")
    await expect_playing_tiles(pages, "joint")

    await expect_tiles(coach, ["mediator", "party_a", "party_b", "coach"])
    shot = await screenshot(coach, "coach-view-media-1280x720")
    assert shot.stat().st_size > 0
    for seat, p in pages.items():
        assert p.errors == [], (seat, p.errors)
