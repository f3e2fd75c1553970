"""Troubled stretches shaded on the playback timeline in Chromium: an impaired session's
lossy link, and a connection that dropped and came back."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from sessions.ids import SeatId
from sessions.timeline import Event, EventKind
from tests.e2e.browser import screenshot
from tests.e2e.recorded import NAMES, ColourSession, open_playback, record_colour_session
from tests.live_server import LiveServer
from tests.media.lossy_session import LOSSY_SEAT, lossy_session, lossy_stretches

#: how far (px) the shaded stretch may sit from where its times put it (rounding, borders)
PIXEL_SLACK = 4


async def test_the_lossy_stretch_is_shaded_on_the_playback_timeline_with_its_label(
    browser: Browser, media_server: LiveServer
) -> None:
    viewer = LOSSY_SEAT  # a trainee reviewing sees their own link's trouble
    async with lossy_session(media_server) as lossy:
        [stretch] = await lossy_stretches(media_server, lossy.room)
    session = ColourSession(media_server, lossy.room, "coach-ana")
    opened = await open_playback(browser, session, viewer)
    page = opened.page
    where = f'[data-seat="{LOSSY_SEAT}"][data-start="{stretch["t_ms"]}"]'
    shaded = page.locator(f"#timeline .trouble{where}")
    await expect(shaded).to_have_count(1)
    label = await shaded.get_attribute("aria-label")
    assert label is not None, "the stretch has no accessible name"
    assert label.startswith(f"{stretch['what']} on Person {LOSSY_SEAT}'s link, "), label
    assert f"{stretch['loss_pct']} % loss" in label, label
    assert await shaded.get_attribute("title") == label
    lane = page.locator(f'#timeline .trouble-row[data-seat="{LOSSY_SEAT}"]')
    await expect(lane).to_have_attribute(
        "aria-label", f"Network trouble on Person {LOSSY_SEAT}'s link"
    )

    # where it sits on the track is where it happened on the session clock
    track = page.locator("#timeline .track")
    track_box, box = await track.bounding_box(), await shaded.bounding_box()
    assert track_box is not None and box is not None
    duration = int(await track.get_attribute("aria-valuemax") or 0)
    left = track_box["x"] + track_box["width"] * stretch["t_ms"] / duration
    width = track_box["width"] * (stretch["end_ms"] - stretch["t_ms"]) / duration
    assert abs(box["x"] - left) <= PIXEL_SLACK, (box, left)
    assert abs(box["width"] - width) <= PIXEL_SLACK, (box, width)

    # a keyboard user reaches it, hears the label and jumps to the stretch with it
    await shaded.focus()
    await expect(shaded).to_be_focused()
    await shaded.press("Enter")
    await expect(track).to_have_attribute("aria-valuenow", str(stretch["t_ms"]))
    await shaded.hover()
    await screenshot(opened, "link-trouble-playback")
    assert opened.errors == []
    await opened.context.close()


async def test_a_dropped_connection_is_shaded_from_the_drop_to_the_return(
    browser: Browser, server: LiveServer
) -> None:
    session = await record_colour_session(server)
    # party_b's connection drops 1.0 s in and the seat is resumed at 3.5 s (what the
    # namespace stores when a socket goes and the same identity comes back)
    room = server.catalogue
    await room.append_event(session.room, Event(1000, EventKind.DROP, SeatId("party_b")))
    await room.append_event(
        session.room,
        Event(3500, EventKind.RESUME, SeatId("party_b"), {"name": NAMES["party_b"]}),
    )
    opened = await open_playback(browser, session, "mediator")
    shaded = opened.page.locator('#timeline .trouble[data-seat="party_b"]')
    await expect(shaded).to_have_count(1)
    await expect(shaded).to_have_attribute(
        "aria-label",
        f"connection lost 2.5 s, back on {NAMES['party_b']}'s link, 00:01.0–00:03.5",
    )
    await expect(shaded).to_have_attribute("data-start", "1000")
    await expect(shaded).to_have_attribute("data-end", "3500")
    assert opened.errors == []
    await opened.context.close()
