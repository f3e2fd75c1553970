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
from tests.e2e.browser import SeatPage, join_link, open_page
from tests.live_server import LiveServer
from web.keys import DIRECTORY

HELD_DEVICES = """
(() => {
  const devices = navigator.mediaDevices;
  const real = devices.getUserMedia.bind(devices);
  let answer;
  const answered = new Promise((resolve) => { answer = resolve; });
  window.__devicesAnswer = () => answer();
  window.__devicesGiven = [];
  devices.getUserMedia = async (constraints) => {
    await answered;
    const stream = await real(constraints);
    window.__devicesGiven.push(stream);
    return stream;
  };
})();
"""


async def click_join_while_devices_are_held(
    server: LiveServer, browser: Browser, room: RoomId, seat: str, name: str
) -> SeatPage:
    token = server.token(room, seat, name=name)
    opened = await open_page(
        browser, seat, join_link(server.url, room, token), init_script=HELD_DEVICES
    )
    await opened.page.get_by_label("I agree to this session being recorded").check()
    await opened.page.get_by_role("button", name="Join the session").click()
    return opened


async def test_a_click_on_join_before_the_devices_answer_still_publishes_them(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    opened = await click_join_while_devices_are_held(server, browser, room, "mediator", "Li Wei")
    page = opened.page
    join = page.get_by_role("button", name="Join the session")
    await expect(page.locator("#join-hint")).to_have_text("Waiting for your camera and microphone…")
    await expect(join).to_be_disabled()
    # not seated yet: the page waits for its devices before it joins
    assert SeatId("mediator") not in (await server.app[DIRECTORY].open(room)).room.participants

    await page.evaluate("window.__devicesAnswer()")
    await expect(page.locator("#link")).to_have_attribute("data-state", "connected")
    sfu = server.sfu
    await page.wait_for_function(
        "() => window.__caucusPc && window.__caucusPc.connectionState === 'connected'"
    )
    participant = sfu.participant(RoomId(room), SeatId("mediator"))
    assert participant.published == {MediaKind.AUDIO, MediaKind.VIDEO}
    assert opened.errors == []


async def test_devices_that_never_answer_leave_a_way_in_without_them(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    opened = await click_join_while_devices_are_held(server, browser, room, "party_a", "Sam Okafor")
    page = opened.page
    without = page.get_by_role("button", name="Join without camera and microphone")
    await expect(without).to_be_hidden()  # offered only once the devices are overdue
    await expect(without).to_be_visible(timeout=15_000)
    await expect(page.locator("#join-hint")).to_contain_text("permission prompt")
    await without.click()

    await expect(page.locator("#link")).to_have_attribute("data-state", "connected")
    await expect(without).to_be_hidden()
    seated = (await server.app[DIRECTORY].open(room)).room.participants
    assert SeatId("party_a") in seated
    # a late answer to the prompt is stopped, not published behind the person's back
    await page.evaluate("window.__devicesAnswer()")
    await page.wait_for_function(
        "() => window.__caucusPc && window.__caucusPc.connectionState === 'connected'"
    )
    await page.wait_for_function(
        """() => window.__devicesGiven.length > 0 && window.__devicesGiven.every(
             (stream) => stream.getTracks().every((t) => t.readyState === 'ended'))"""
    )
    assert await page.evaluate("window.__caucusPc.getSenders().every((s) => !s.track)")
    assert server.sfu.participant(RoomId(room), SeatId("party_a")).published == set()
    assert opened.errors == []
