"""An impaired session's troubled stretch, shaded on the playback timeline in Chromium."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.e2e.browser import screenshot
from tests.e2e.recorded import ColourSession, open_playback
from tests.live_server import LiveServer
from tests.media.lossy_session import LOSSY_SEAT, lossy_session, lossy_stretches

#: how far (px) the shaded stretch may sit from where its times put it (rounding, borders)
PIXEL_SLACK = 4


async def test_the_lossy_stretch_is_shaded_on_the_playback_timeline_with_its_label(
    browser: Browser, media_server: LiveServer
) -> None:
    viewer = LOSSY_SEAT  # a trainee reviewing sees their own link's trouble
    async with lossy_session(media_server) as lossy:
        [stretch] = lossy_stretches(media_server, lossy.room)
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
