"""Opening the same seat elsewhere takes it over; the old page says so and stays down."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.e2e.browser import join_link, open_page, take_seat
from tests.live_server import LiveServer, seat_participants


async def test_the_replaced_page_stops_and_can_take_the_seat_back(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence")
    coach = (await seat_participants(server, room, ["coach"]))["coach"]
    link = join_link(server.url, room, server.token(room, "party_a"))
    first = await open_page(browser, "party_a", link)
    await take_seat(first)
    second = await open_page(browser, "party_a", link)
    await take_seat(second)

    notice = first.page.locator("#notice")
    await expect(notice).to_be_visible()
    await expect(notice).to_have_attribute("role", "alert")
    await expect(notice).to_contain_text("This seat was opened somewhere else")
    await expect(first.page.locator("#room")).to_be_hidden()
    assert [j["data"]["outcome"] for j in await second.received("ack:join")] == ["replaced"]

    # The session moves on; the replaced page hears nothing more and never re-joins.
    assert (await coach.call("phase", {"to": "joint"}))["ok"]
    await second.phase_is("Joint session")
    assert len(await first.received("ack:join")) == 1
    assert not any(
        s["data"]["phase"]["name"] == "joint" for s in await first.received("room_state")
    )

    # "Use this window instead" takes the seat back here.
    await first.page.get_by_role("button", name="Use this window instead").click()
    await take_seat(first)
    await first.phase_is("Joint session")
    await expect(second.page.locator("#notice")).to_contain_text("opened somewhere else")
    await coach.close()
    assert first.errors == [] and second.errors == []
