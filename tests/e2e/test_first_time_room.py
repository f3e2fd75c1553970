"""What a first-time user met in the live room (issue 12): the coach's side panel at
1366×850, the mediator's tiles, devices after the end, the way to one's feedback and
dropping one's own video mid-session."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, ViewportSize, expect

from media.producer import Producer
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from tests.e2e.browser import (
    VIDEO_PLAYING,
    SeatPage,
    join_link,
    open_page,
    phase_button,
    screenshot,
    seat,
    take_seat,
)
from tests.e2e.first_time import wait_until
from tests.live_server import LiveServer

LAPTOP: ViewportSize = {"width": 1366, "height": 850}
NAMES = {
    "mediator": "Li Wei",
    "party_a": "Wanjiru Kamau",
    "party_b": "Diego Ramos",
    "coach": "Dr Helen Brandt",
}

#: the side panel's own scroll, and where each part of it is (relative to the window)
PANEL_JS = """() => {
  const panel = document.querySelector('.room .panel');
  const box = (sel) => { const e = document.querySelector(sel);
    if (!e) return null; const r = e.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, height: r.height, width: r.width }; };
  return { scrollTop: panel.scrollTop, scrollable: panel.scrollHeight > panel.clientHeight + 1,
           height: innerHeight, skills: box('#live-notes .skill-buttons'),
           note: box('#live-note-text'), brief: box('#brief-heading'),
           controls: box('#phase-controls'), whispers: box('#whisper-text') };
}"""

TILE_SIZES_JS = """() => [...document.querySelectorAll('#tiles > li')].map((li) => {
  const r = li.querySelector('.tile-media').getBoundingClientRect();
  return { seat: li.dataset.seat, width: r.width, height: r.height, top: r.top };
})"""


async def test_the_coach_at_1366x850_has_rubric_and_brief_at_hand_and_the_panel_never_jumps(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence")
    mediator, party_a, party_b, coach = await asyncio.gather(
        *(seat(browser, server, room, s, NAMES[s], viewport=LAPTOP) for s in NAMES)
    )
    await phase_button(coach, "joint").click()
    for page in (mediator, party_a, party_b, coach):
        await page.phase_is("Joint session")

    await screenshot(coach, "coach-room-1366x850")
    await screenshot(mediator, "mediator-joint-1366x850")
    panel = await coach.page.evaluate(PANEL_JS)
    # The rubric buttons, the note box and the brief's heading are in the window.
    for part in ("skills", "note", "brief", "controls", "whispers"):
        assert panel[part] is not None, part
        assert panel[part]["bottom"] <= panel["height"], (part, panel)

    # "n" to note a moment, a whisper from the mediator: the panel does not jump.
    await coach.page.keyboard.press("n")
    await expect(coach.page.locator("#live-note-text")).to_be_focused()
    await coach.page.keyboard.type("Good open question")
    await coach.page.keyboard.press("Enter")
    await expect(coach.page.locator("#live-notes .live-log li")).to_have_count(1)
    await mediator.page.get_by_label("Reply to your coach").fill("Shall I caucus now?")
    await mediator.page.get_by_role("button", name="Send to coach").click()
    await expect(coach.page.get_by_role("log")).to_contain_text("Shall I caucus now?")
    after = await coach.page.evaluate(PANEL_JS)
    assert after["scrollTop"] == 0, after
    assert after["skills"]["top"] == panel["skills"]["top"], (panel, after)

    # The mediator's joint-session tiles use the stage: three others, each at least
    # 380 px wide, and together they fill most of the stage's height.
    tiles = await mediator.page.evaluate(TILE_SIZES_JS)
    others = [t for t in tiles if t["seat"] != "mediator"]
    assert len(tiles) == 3 and len(others) == 2, tiles
    stage = await mediator.page.locator(".stage").bounding_box()
    assert stage is not None
    widest = max(t["width"] for t in tiles)
    assert min(t["width"] for t in tiles) >= 380, tiles
    rows = {round(t["top"]) for t in tiles}
    used = sum(max(t["height"] for t in tiles if round(t["top"]) == r) for r in rows)
    assert used >= 0.6 * stage["height"], (tiles, stage, widest)
    for page in (mediator, party_a, party_b, coach):
        assert page.errors == [], (page.seat, page.errors)


#: every track getUserMedia handed the page (the page may take one out of its stream)
KEEP_DEVICES = """
(() => {
  const devices = navigator.mediaDevices;
  const real = devices.getUserMedia.bind(devices);
  window.__tracksGiven = [];
  devices.getUserMedia = async (constraints) => {
    const stream = await real(constraints);
    window.__tracksGiven.push(...stream.getTracks());
    return stream;
  };
})();
"""
#: the state of every camera and microphone track the page was given, by kind
TRACKS_JS = """() => window.__tracksGiven.map((t) => ({ kind: t.kind, state: t.readyState }))"""
#: the page's published tracks: what its peer connection's senders carry
SENDING_JS = """() => window.__caucusPc.getSenders()
  .filter((s) => s.track && s.track.readyState === 'live').map((s) => s.track.kind).sort()"""


async def seat_keeping_devices(
    browser: Browser, server: LiveServer, room: RoomId, seat_id: str
) -> SeatPage:
    token = server.token(room, seat_id, name=NAMES[seat_id])
    opened = await open_page(
        browser, seat_id, join_link(server.url, room, token), init_script=KEEP_DEVICES
    )
    await take_seat(opened, consent=seat_id != "coach")
    await opened.page.wait_for_function(
        "() => window.__caucusPc && window.__caucusPc.connectionState === 'connected'"
    )
    return opened


async def still_for(producer: Producer, seconds: float) -> int:
    """How many frames `producer` received over `seconds` (a quiet spell is the behaviour)."""
    before = producer.frames
    await asyncio.sleep(seconds)
    return producer.frames - before


async def test_after_the_end_camera_and_microphone_stop_and_nothing_reaches_the_server(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    mediator = await seat_keeping_devices(browser, server, room, "mediator")
    coach = await seat(browser, server, room, "coach", NAMES["coach"])
    await phase_button(coach, "joint").click()
    await mediator.phase_is("Joint session")
    participant = server.sfu.participant(RoomId(room), SeatId("mediator"))
    producers = [participant.producers[MediaKind.AUDIO], participant.producers[MediaKind.VIDEO]]
    sent = [p.frames for p in producers]
    await wait_until(
        lambda: all(p.frames > n + 5 for p, n in zip(producers, sent, strict=True)),
        "the mediator's media reaching the server",
    )

    await coach.page.get_by_role("button", name="End session…").click()
    await coach.page.get_by_role("button", name="End now").click()
    await mediator.phase_is("Session ended")
    await mediator.page.wait_for_function(
        "() => window.__tracksGiven.every((t) => t.readyState === 'ended')"
    )
    tracks = await mediator.page.evaluate(TRACKS_JS)
    assert {t["kind"] for t in tracks} == {"audio", "video"}, tracks
    state = await mediator.page.evaluate("window.__caucusPc.connectionState")
    assert state == "closed"
    # Give packets in flight a moment to land, then nothing more arrives.
    await asyncio.sleep(0.5)
    quiet = await asyncio.gather(*(still_for(p, 2.0) for p in producers))
    assert quiet == [0, 0], quiet
    await expect(mediator.page.locator("#away-text")).to_contain_text(
        "camera and microphone are off"
    )
    await expect(mediator.page.locator("#mute")).to_be_hidden()
    assert mediator.errors == [] and coach.errors == []


async def test_the_end_page_links_a_trainee_to_the_live_notes_shared_with_them(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence")
    mediator, coach = await asyncio.gather(
        seat(browser, server, room, "mediator", NAMES["mediator"]),
        seat(browser, server, room, "coach", NAMES["coach"]),
    )
    await phase_button(coach, "joint").click()
    await mediator.phase_is("Joint session")
    # How a live note is shared is in the card, and shared is the default.
    sharing = coach.page.get_by_label("Notes and tags are shared with")
    await expect(sharing).to_be_visible()
    await expect(sharing).to_have_value("all")
    await coach.page.keyboard.press("n")
    await coach.page.keyboard.type("Lovely summary of both interests")
    await coach.page.keyboard.press("Enter")
    await coach.page.locator('#live-notes .skill-button[data-skill="reframing"]').click()
    await sharing.select_option("coach")
    await coach.page.keyboard.press("n")
    await coach.page.keyboard.type("Check her pacing with the co-trainer")
    await coach.page.keyboard.press("Enter")
    log = coach.page.locator("#live-notes .live-log li")
    await expect(log).to_have_count(3)
    await expect(log.first).to_contain_text("coaches only")

    await coach.page.get_by_role("button", name="End session…").click()
    await coach.page.get_by_role("button", name="End now").click()
    page = mediator.page
    link = page.get_by_role("link", name="See your recording and feedback")
    await expect(link).to_be_visible()
    await screenshot(mediator, "end-page-trainee")
    href = await link.get_attribute("href")
    assert href is not None and href.startswith(f"/recordings/{room}#token="), href
    await link.click()
    notes = page.locator("#notes > li.note")
    await expect(notes).to_have_count(2)
    await expect(page.locator("#notes")).to_contain_text("Lovely summary of both interests")
    await expect(page.locator("#notes .skill-chip")).to_have_text("Reframing")
    await expect(page.locator("#notes")).not_to_contain_text("pacing")
    await expect(coach.page.get_by_role("link", name="Review the recording")).to_be_visible()
    assert mediator.errors == [] and coach.errors == []


async def test_a_trainee_drops_their_own_video_mid_session_and_brings_it_back(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    party_a = await seat_keeping_devices(browser, server, room, "party_a")
    mediator = await seat_keeping_devices(browser, server, room, "mediator")
    coach = await seat(browser, server, room, "coach", NAMES["coach"])
    await phase_button(coach, "joint").click()
    await party_a.phase_is("Joint session")
    await mediator.page.wait_for_function(VIDEO_PLAYING, arg=["party_a"])
    video = server.sfu.participant(RoomId(room), SeatId("party_a")).producers[MediaKind.VIDEO]
    audio = server.sfu.participant(RoomId(room), SeatId("party_a")).producers[MediaKind.AUDIO]

    page = party_a.page
    await page.get_by_role("button", name="Audio only").click()
    await expect(page.get_by_role("button", name="Send video again")).to_be_visible()
    tracks = await page.evaluate(TRACKS_JS)
    # the camera is stopped (its light goes off), not merely muted
    assert [t["state"] for t in tracks if t["kind"] == "video"][:1] == ["ended"], tracks
    assert await page.evaluate(SENDING_JS) == ["audio"]
    await expect(page.locator('#tiles > li[data-seat="party_a"]')).not_to_have_class("has-video")
    await asyncio.sleep(0.5)  # frames already in flight
    sent_audio = audio.frames
    assert await still_for(video, 2.0) == 0
    assert audio.frames > sent_audio + 20, "the microphone goes on"

    await page.get_by_role("button", name="Send video again").click()
    await expect(page.get_by_role("button", name="Audio only")).to_be_visible()
    assert await page.evaluate(SENDING_JS) == ["audio", "video"]
    sent = video.frames
    await wait_until(lambda: video.frames > sent + 10, "party A's video again")
    await mediator.page.wait_for_function(VIDEO_PLAYING, arg=["party_a"])
    for p in (party_a, mediator, coach):
        assert p.errors == [], (p.seat, p.errors)
