"""Joining before the camera and microphone have answered still publishes them.

A trainee may click "Join the session" while the browser is still opening the
devices (or waiting on its permission prompt). The page must wait for them and
publish what they give, not join with nothing and stay silent all session.
The init script holds getUserMedia until the test lets it answer, like a
permission prompt the person answers late.
"""

from __future__ import annotations

from playwright.async_api import Browser, expect

from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from tests.e2e.browser import join_link, open_page
from tests.live_server import LiveServer
from web.keys import DIRECTORY

HELD_DEVICES = """
(() => {
  const devices = navigator.mediaDevices;
  const real = devices.getUserMedia.bind(devices);
  let answer;
  const answered = new Promise((resolve) => { answer = resolve; });
  window.__devicesAnswer = () => answer();
  devices.getUserMedia = async (constraints) => { await answered; return real(constraints); };
})();
"""


async def test_a_click_on_join_before_the_devices_answer_still_publishes_them(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = server.simulation("boundary-fence")
    token = server.token(room, "mediator", name="Li Wei")
    opened = await open_page(
        browser, "mediator", join_link(server.url, room, token), init_script=HELD_DEVICES
    )
    page = opened.page
    await page.get_by_label("I agree to this session being recorded").check()
    join = page.get_by_role("button", name="Join the session")
    await join.click()
    await expect(page.locator("#join-hint")).to_have_text("Waiting for your camera and microphone…")
    await expect(join).to_be_disabled()
    # not seated yet: the page waits for its devices before it joins
    assert SeatId("mediator") not in server.app[DIRECTORY].get(room).room.participants

    await page.evaluate("window.__devicesAnswer()")
    await expect(page.locator("#link")).to_have_attribute("data-state", "connected")
    sfu = server.sfu
    await page.wait_for_function(
        "window.__caucusPc && window.__caucusPc.connectionState === 'connected'"
    )
    participant = sfu.participant(RoomId(room), SeatId("mediator"))
    assert participant.published == {MediaKind.AUDIO, MediaKind.VIDEO}
    assert opened.errors == []
