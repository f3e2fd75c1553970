"""Real Chromium: a 10 s hole in the server's recording of one seat is filled, in
playback, from that seat's browser copy, aligned on the session clock.

The hole is made on the server: for 10 s the recorder is not fed party_a's frames
(the SFU still forwards them; a test-only wrapper around `Recordings.frame_forwarded`
drops them on arrival), so the server's recording of party_a has two segments with
10 s between them. Alignment is measured on the frames themselves: Chromium's fake
camera draws a moving picture, so each frame of the browser copy that the server also
recorded is matched to the server's frame with the same picture, and the two
session-clock times compared.
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
from playwright.async_api import Browser, expect

from caucus.app import RECORDINGS
from recordings.render import plan_render, render_session
from recordings.render_fill import FillSegment
from sessions.ids import RoomId, SeatId
from storage.browser_copies import CopyChunk
from storage.catalogue import Segment
from tests.e2e.browser import DESKTOP, WAIT_MS, SeatPage, phase_button, seat
from tests.e2e.test_browser_copy import HELD, stored, until
from tests.live_server import LiveServer
from web.keys import SCENARIOS

GAP_S = 10.0
#: the browser copy against the server's recording, frame for frame (ms)
ALIGNED_MS = 100
#: a frame of the copy is matched among the server's frames this close on the clock (ms)
SEARCH_MS = 700

PLAYS_COPY = """() => {
  const v = document.querySelector('#players video[data-seat="party_a"]');
  const tile = document.querySelector('#players li[data-seat="party_a"]');
  return Boolean(v && tile) && v.dataset.source === "browser" && v.readyState >= 2
    && v.videoWidth > 0 && tile.dataset.state === "video";
}"""


def frames(path: str, start_ms: int) -> list[tuple[float, Any]]:
    """(session ms, small grey picture) of every frame of the file's video."""
    out: list[tuple[float, Any]] = []
    with av.open(path) as container:
        for frame in container.decode(video=0):
            if frame.pts is None or frame.time_base is None:
                continue
            grey = frame.to_ndarray(format="gray", width=160, height=120).astype(np.int16)
            out.append((start_ms + float(frame.pts * frame.time_base) * 1000, grey))
    return out


def offsets(copy: list[tuple[float, Any]], server: list[tuple[float, Any]]) -> list[float]:
    """For each frame of the copy the server also has: copy time − server time of the
    server frame with the same picture (the closest in content within SEARCH_MS)."""
    found = []
    first, last = server[0][0], server[-1][0]
    for t, picture in copy:
        if not first + SEARCH_MS <= t <= last - SEARCH_MS:
            continue
        near = [(s, p) for s, p in server if abs(s - t) <= SEARCH_MS]
        best = min(near, key=lambda sp: float(np.abs(sp[1] - picture).mean()))
        found.append(t - best[0])
    return found


async def test_a_server_gap_plays_from_the_browser_copy_aligned(
    media_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    party_a = await seat(browser, server, room, "party_a", "Wanjiru Kamau")
    coach = await seat(browser, server, room, "coach", "Dr Helen Brandt")
    await phase_button(coach, "joint").click()
    await party_a.phase_is("Joint session")

    async def video_segments() -> list[Segment]:
        return [
            s
            for s in await server.catalogue.segments(room)
            if s.seat == "party_a" and s.kind == "video"
        ]

    async def recording_party_a() -> bool:
        return bool(await video_segments())

    await until(recording_party_a)
    await asyncio.sleep(4)  # some recording before the hole, for the frames to match on

    # The hole: the recorder is fed nothing of party_a's for 10 s.
    recordings = server.app[RECORDINGS]
    forward: Callable[..., None] = recordings.frame_forwarded
    hole = {"on": True}

    def dropping(room_id: RoomId, seat_id: SeatId, *rest: Any) -> None:
        if not (hole["on"] and seat_id == "party_a"):
            forward(room_id, seat_id, *rest)

    setattr(recordings, "frame_forwarded", dropping)  # noqa: B010 - a test-only tap
    await asyncio.sleep(GAP_S)  # how long the hole lasts, not a wait for anything
    hole["on"] = False

    async def recorded_again() -> bool:
        return len(await video_segments()) >= 2

    await until(recorded_again)
    await asyncio.sleep(4)
    await phase_button(coach, "ended").click()
    await coach.page.locator(".confirm button").first.click()
    await party_a.phase_is("Session ended")

    async def settled() -> bool:
        segments = await video_segments()
        return all(s.status != "recording" for s in segments) and not await party_a.page.evaluate(
            HELD
        )

    await until(settled)
    segments = sorted(await video_segments(), key=lambda s: s.start_ms)
    holes = [
        (a, b) for a, b in zip(segments, segments[1:], strict=False) if b.start_ms - a.end_ms > 8000
    ]
    assert len(holes) == 1, [(s.start_ms, s.end_ms) for s in segments]
    before, after = holes[0]
    chunks = await stored(server, room, "party_a")

    # The copy covers the hole whole: no moment of it without a chunk.
    def covered(t: int) -> bool:
        return any(c.start_ms <= t < c.end_ms for c in chunks)

    assert all(covered(t) for t in range(before.end_ms, after.start_ms, 50))

    # Aligned: frames of the copy against the server's frames on each side of the hole.
    def overlapping(segment: Segment) -> list[CopyChunk]:
        return [c for c in chunks if c.start_ms < segment.end_ms and c.end_ms > segment.start_ms]

    measured: list[float] = []
    for segment in (before, after):
        server_frames = frames(segment.path, segment.start_ms)
        for chunk in overlapping(segment):
            measured += offsets(frames(chunk.path, chunk.start_ms), server_frames)
    assert len(measured) >= 30, measured
    median = statistics.median(measured)
    print(
        f"\nbrowser copy vs server recording, {len(measured)} matched frames: "
        f"median {median:+.0f} ms, 10th–90th percentile "
        f"{np.percentile(measured, 10):+.0f}…{np.percentile(measured, 90):+.0f} ms"
    )
    assert abs(median) <= ALIGNED_MS

    # `caucus render` fills the hole from the copy too: two seconds inside it, rendered
    # with the stand-ins and without, differ in party_a's cell only.
    with_copy, without = await render_hole(server, room, before.end_ms + 3000, tmp_path)
    assert float(np.abs(with_copy - without).mean()) > 2.0

    # Playback: in the hole, party_a's tile plays the browser copy.
    inside = next(
        t
        for t in range(0, after.start_ms, 5000)
        if before.end_ms + 1500 <= t <= after.start_ms - 1500
    )
    viewer = await open_admin_playback(browser, server, room)
    page = viewer.page
    track = page.get_by_role("slider").first
    await track.focus()
    await track.press("Home")
    for _ in range(inside // 5000):
        await track.press("ArrowRight")
    await page.wait_for_function(PLAYS_COPY)
    await page.locator("#play").click()
    await expect(page.locator("#play")).to_have_text("Pause")
    await page.wait_for_function(PLAYS_COPY)
    assert viewer.errors == []
    assert [e for e in party_a.errors if "net::" not in e] == []


async def render_hole(
    server: LiveServer, room: RoomId, at_ms: int, folder: Path
) -> tuple[Any, Any]:
    """The middle picture (grey) of a 2 s render from `at_ms`, with the browser copy's
    stand-ins and without them."""
    plan = await plan_render(server.catalogue, server.app[SCENARIOS], room, fps=10)
    assert any(isinstance(s, FillSegment) and s.seat == "party_a" for s in plan.segments)
    window = dataclasses.replace(plan, start_ms=at_ms, frames=20)
    bare = dataclasses.replace(
        window, segments=[s for s in plan.segments if not isinstance(s, FillSegment)]
    )
    pictures = []
    for name, version in (("with.webm", window), ("without.webm", bare)):
        result = await asyncio.to_thread(
            render_session, version, folder / name, width=320, height=180
        )
        with av.open(str(result.path)) as container:
            decoded = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
        pictures.append(decoded[len(decoded) // 2].astype(np.int16))
    return pictures[0], pictures[1]


async def open_admin_playback(browser: Browser, server: LiveServer, room: RoomId) -> SeatPage:
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    opened = SeatPage("admin", context, page)
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    await page.goto(f"{server.url}/recordings/{room}#token={server.config.admin_token}")
    await expect(page.locator("#playback")).to_be_visible()
    return opened
