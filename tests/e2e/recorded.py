"""A recorded session for the playback page: every seat's video a distinct solid colour.

joint 0–4 s, caucus with party_a 4–8 s, joint 8–12 s. The mediator, party_a and the
coach send video throughout (so each has three segments: a new file at each caucus
switch); party_b steps out during the caucus (two segments, nothing in between).
party_a and the mediator send audio throughout. Each segment's first frame is a
keyframe, so every segment starts exactly at its phase boundary.
"""

from __future__ import annotations

import fractions
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import av
import numpy as np
from playwright.async_api import Browser, Page, Route, expect

from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.media_kinds import MediaKind
from tests.e2e.browser import DESKTOP, PLAYBACK_CLOCK, WAIT_MS, SeatPage
from tests.encoded_media import opus_frames
from tests.live_server import LiveServer
from tests.recorded_session import seated_and_recording, written
from web.keys import SCENARIOS

SCENARIO = ScenarioId("boundary-fence")
SEATS = ("mediator", "party_a", "party_b", "coach")
#: (phase requested, start ms, end ms)
PHASES = (("joint", 0, 4000), ("caucus:party_a", 4000, 8000), ("joint", 8000, 12000))
END_MS = 12_000
COLOURS: dict[str, tuple[int, int, int]] = {
    "mediator": (40, 90, 210),
    "party_a": (235, 125, 30),
    "party_b": (40, 170, 80),
    "coach": (150, 60, 175),
}
VIDEO_STEP_MS = 100  # 10 frames a second is plenty for a solid colour
AUDIO_STEP_MS = 20
AUDIO_SEATS = ("mediator", "party_a")
SIZE = (160, 96)
NAMES = {
    "mediator": "Li Wei",
    "party_a": "Wanjiru Kamau",
    "party_b": "Diego Ramos",
    "coach": "Dr Helen Brandt",
}


def colour_frames(
    colour: tuple[int, int, int], start_ms: int, count: int
) -> Iterator[tuple[bytes, int]]:
    """(VP8 frame, 90 kHz timestamp): a solid colour with a white progress bar along the
    bottom whose length is the session time (so screenshots show where a player is)."""
    width, height = SIZE
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 90_000)
    encoder.bit_rate = 200_000
    encoder.gop_size = 10
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    step = 90 * VIDEO_STEP_MS
    for i in range(count):
        pixels = np.empty((height, width, 3), np.uint8)
        pixels[:] = colour
        bar = int(width * (start_ms + i * VIDEO_STEP_MS) / END_MS)
        pixels[height - 8 :, :bar] = 255
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")
        frame.pts, frame.time_base = i * step, encoder.time_base
        for packet in encoder.encode(frame):
            yield bytes(packet), int(packet.pts or 0)
    for packet in encoder.encode(None):
        yield bytes(packet), int(packet.pts or 0)


@dataclass
class ColourSession:
    server: LiveServer
    room: RoomId
    coach_identity: str

    def identity(self, seat: str) -> str:
        return self.coach_identity if seat == "coach" else f"{self.room}:{seat}"

    def token(self, seat: str) -> str:
        return self.server.token(self.room, seat, identity=self.identity(seat))

    @property
    def admin_token(self) -> str:
        return self.server.config.admin_token


def _senders(phase: str) -> tuple[str, ...]:
    return ("mediator", "party_a", "coach") if phase.startswith("caucus") else SEATS


async def record_colour_session(
    server: LiveServer, coach_identity: str = "coach-ana"
) -> ColourSession:
    room_id = await server.simulation(SCENARIO)
    catalogue = server.catalogue
    room, recorder = await seated_and_recording(
        server, room_id, SCENARIO, {seat: NAMES[seat] for seat in SEATS}, coach_identity
    )
    for phase, start, end in PHASES:
        room, event = room.change_phase(SeatId("coach"), phase, start)
        await catalogue.append_event(room_id, event)
        recorder.update(room, start)
        frames: list[tuple[int, str, MediaKind, bytes, int]] = []
        for seat in _senders(phase):
            video = colour_frames(COLOURS[seat], start, (end - start) // VIDEO_STEP_MS)
            for i, (data, ts) in enumerate(video):
                frames.append((start + i * VIDEO_STEP_MS, seat, MediaKind.VIDEO, data, ts))
            if seat in AUDIO_SEATS:
                tone = 330 if seat == "party_a" else 440
                for i, (data, ts) in enumerate(opus_frames((end - start) // AUDIO_STEP_MS, tone)):
                    frames.append((start + i * AUDIO_STEP_MS, seat, MediaKind.AUDIO, data, ts))
        for at, seat, kind, data, ts in sorted(frames, key=lambda f: f[0]):
            codec, rate = ("vp8", 90_000) if kind is MediaKind.VIDEO else ("opus", 48_000)
            recorder.record_frame(SeatId(seat), kind, codec, rate, data, ts, at)
    recorder.close(END_MS)
    await written(server)
    return ColourSession(server, room_id, coach_identity)


# --- the playback page -------------------------------------------------------------


def stamp(ms: int) -> str:
    """The page's time format, mm:ss.t (playback-clock.js)."""
    minutes, rest = divmod(max(0, ms), 60_000)
    return f"{minutes:02d}:{rest // 1000:02d}.{rest % 1000 // 100}"


def playback_url(session: ColourSession, token: str, *, static: bool = False) -> str:
    """The page route, or the static file with ?room= (both must work)."""
    if static:
        return f"{session.server.url}/static/playback.html?room={session.room}#token={token}"
    return f"{session.server.url}/recordings/{session.room}#token={token}"


def review_fields(session: ColourSession) -> dict[str, Any]:
    """What the playback page asks GET /api/recordings/{id} to carry besides today's fields."""
    scenario = session.server.app[SCENARIOS][SCENARIO]
    return {
        "rubric": [{"id": s.id, "name": s.name} for s in scenario.rubric],
        "parties": [{"seat": p.seat, "name": p.name, "label": p.label} for p in scenario.parties],
    }


async def add_review_fields(page: Page, session: ColourSession) -> None:
    """Until the server sends `rubric` and `parties` with a recording, add them in flight
    (exactly as requested); once it does, this changes nothing."""
    extra = review_fields(session)

    async def handle(route: Route) -> None:
        response = await route.fetch()
        data = await response.json()
        for key, value in extra.items():
            data.setdefault(key, value)
        await route.fulfill(response=response, json=data)

    await page.route(f"**/api/recordings/{session.room}", handle)


async def open_playback(
    browser: Browser,
    session: ColourSession,
    seat: str,
    *,
    static: bool = False,
    requests: list[str] | None = None,
    extra_fields: bool = True,
) -> SeatPage:
    """A fresh context on the playback page as `seat` ("admin": the admin token);
    `requests` collects the URL of every request the page makes from the start;
    extra_fields: add the fields the page asks the API for (see add_review_fields)."""
    token = session.admin_token if seat == "admin" else session.token(seat)
    context = await browser.new_context(viewport=DESKTOP)
    await context.add_init_script(PLAYBACK_CLOCK)  # window.__caucusClockNow()
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    opened = SeatPage(seat, context, page)
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
    if extra_fields:
        await add_review_fields(page, session)
    await page.goto(playback_url(session, token, static=static))
    await expect(page.locator("#playback")).to_be_visible()
    return opened


async def api(
    server: LiveServer, method: str, path: str, token: str, body: Any = None
) -> tuple[int, Any]:
    """One REST call with the Bearer token: (status, JSON body)."""
    async with aiohttp.ClientSession() as http:
        async with http.request(
            method,
            f"{server.url}{path}",
            headers={"Authorization": f"Bearer {token}"},
            json=body,
        ) as r:
            return r.status, await r.json()


#: What a seat's <video> shows now: the colour in the picture's upper middle, how far the
#: white progress bar along the bottom reaches (0–1 of the session), and its segment.
SHOWN_JS = """(seat) => {
  const v = document.querySelector(`#players video[data-seat="${seat}"]`);
  if (!v || v.readyState < 2 || !v.videoWidth || v.seeking) return null;
  const c = document.createElement("canvas");
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext("2d", { willReadFrequently: true });
  g.drawImage(v, 0, 0);
  const mid = g.getImageData(c.width >> 1, c.height >> 2, 1, 1).data;
  const row = g.getImageData(0, c.height - 3, c.width, 1).data;
  const isWhite = (x) => Math.min(row[4 * x], row[4 * x + 1], row[4 * x + 2]) > 190;
  let white = 0;
  while (white < c.width && isWhite(white)) white++;
  return { colour: [mid[0], mid[1], mid[2]], bar: white / c.width,
           segment: v.dataset.segment, currentTime: v.currentTime };
}"""


def looks_like(colour: list[int], seat: str, tolerance: int = 45) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, COLOURS[seat], strict=True))


async def segments_for(session: ColourSession, token: str) -> list[dict[str, Any]]:
    status, data = await api(session.server, "GET", f"/api/recordings/{session.room}", token)
    assert status == 200, data
    segments: list[dict[str, Any]] = data["segments"]
    return segments


def video_at(segments: list[dict[str, Any]], seat: str, t: int) -> dict[str, Any] | None:
    """The seat's video segment with start_ms <= t < start_ms + duration_ms."""
    for s in segments:
        if s["seat"] == seat and s["kind"] == "video":
            if s["start_ms"] <= t < s["start_ms"] + s["duration_ms"]:
                return s
    return None


async def click_timeline(page: Page, fraction: float) -> int:
    """Click the timeline at `fraction` of its width; the session time it moved to."""
    track = page.locator(".timeline .track")
    box = await track.bounding_box()
    assert box is not None
    await track.click(position={"x": box["width"] * fraction, "y": box["height"] / 2})
    t = int(await track.get_attribute("aria-valuenow") or -1)
    assert abs(t - fraction * END_MS) <= 2 * END_MS / box["width"], (t, fraction)
    return t


async def expect_time(page: Page, t: int) -> None:
    """The master clock is at t: the time display and the slider say so."""
    await expect(page.locator("#time")).to_have_text(f"{stamp(t)} / {stamp(END_MS)}")
    await expect(page.locator(".timeline .track")).to_have_attribute("aria-valuenow", str(t))
