"""What a first-time user met in the live room (issue 12): the coach's side panel at
1366×850 and the mediator's tiles in the joint session."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, ViewportSize, expect

from tests.e2e.browser import phase_button, screenshot, seat
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
    room = server.simulation("boundary-fence")
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
