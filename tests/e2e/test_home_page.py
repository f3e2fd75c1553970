"""A person's home page in Chromium: their own time zone, a Join button that opens on time,
and the end-of-session page that sends a signed-in person home."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Error, expect

from sessions.people import Role
from storage.people import now_ms
from tests.e2e.browser import DESKTOP, INSTRUMENT, WAIT_MS, SeatPage, join_link, screenshot
from tests.e2e.browser import take_seat as take_seat_on
from tests.home_rows import MINUTE_MS, note, ran, schedule
from tests.live_server import LiveServer, seat_participants
from tests.people import SignedIn, sign_in
from web.auth import COOKIE
from web.keys import DATABASE

NAIROBI = "Africa/Nairobi"
PHOENIX = "America/Phoenix"
#: the Join button opens this long after the page is asked for (enough to see it closed)
OPENS_IN_MS = 4_000


async def signed_in_context(
    browser: Browser, server: LiveServer, who: SignedIn, browser_zone: str
) -> BrowserContext:
    # The browser's own zone differs from the person's: the page must show the person's.
    context = await browser.new_context(viewport=DESKTOP, timezone_id=browser_zone)
    await context.add_cookies([{"name": COOKIE, "value": who.token, "url": server.url}])
    await context.add_init_script(INSTRUMENT)
    return context


async def open_signed_in(
    browser: Browser,
    server: LiveServer,
    who: SignedIn,
    url: str,
    name: str,
    browser_zone: str = "America/Phoenix",
) -> SeatPage:
    context = await signed_in_context(browser, server, who, browser_zone)
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    opened = SeatPage(name, context, page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            opened.errors.append(message.text)

    def on_error(error: Error) -> None:
        opened.errors.append(str(error))

    page.on("console", on_console)
    page.on("pageerror", on_error)
    await page.goto(url)
    return opened


def local_time(ms: int, zone: str) -> str:
    local = datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M} ({zone})"


def in_nairobi(ms: int) -> str:
    return local_time(ms, NAIROBI)


async def test_the_home_page_shows_nairobi_time_and_opens_join_at_the_scheduled_moment(
    server: LiveServer, browser: Browser
) -> None:
    db = server.app[DATABASE]
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara Odhiambo", time_zone=NAIROBI)
    lin = await sign_in(server.app, Role.TRAINEE, name="Lin Wei", time_zone="Asia/Taipei")
    ruth = await sign_in(server.app, Role.COACH, name="Ruth Diaz", time_zone=PHOENIX)
    now = now_ms()
    opens = now + OPENS_IN_MS
    at = opens + 15 * MINUTE_MS
    seats = {"mediator": amara.person.id, "party_a": lin.person.id, "coach": ruth.person.id}
    coming = await schedule(db, seats, at)
    done = await schedule(
        db, {"party_b": amara.person.id}, now - 26 * 60 * MINUTE_MS, ended_ms=now - MINUTE_MS
    )
    await ran(db, done, {"party_b": (amara.person.id, "Amara Odhiambo")})
    await note(db, done, "You named her worry about the sale well", target="party_b")
    await note(db, done, "Lin: slow down", target="party_a")

    home = await open_signed_in(browser, server, amara, f"{server.url}/", "amara")
    page = home.page
    item = page.locator(f'#upcoming li[data-id="{coming}"]')
    await expect(item.locator(".when time")).to_have_text(in_nairobi(at))
    join = item.get_by_role("button", name="Join")
    await expect(join).to_be_disabled()
    await expect(item).to_contain_text(f"Opens {in_nairobi(opens)}")
    await expect(item).to_contain_text("With Lin Wei (Party A), Ruth Diaz (Coach)")
    past = page.locator(f'#past li[data-id="{done}"]')
    await expect(past).to_contain_text("1 note from your coach")
    await expect(past).to_contain_text("You named her worry about the sale well")
    await expect(past).not_to_contain_text("slow down")
    link = past.get_by_role("link", name="Recording and feedback")
    await expect(link).to_have_attribute("href", f"/recordings/{done}")
    feed = await page.locator("#feed-url").input_value()
    assert feed.startswith(f"{server.url}/calendar/") and feed.endswith(".ics"), feed
    await expect(page.get_by_role("link", name="Settings")).to_have_attribute("href", "/settings")
    loaded_at = await page.evaluate("() => window.__caucusPage.loadedAt")
    await screenshot(home, "home-trainee-nairobi")

    # The button opens by itself at the opening moment: no reload, no click before.
    await expect(join).to_be_enabled(timeout=OPENS_IN_MS + WAIT_MS)
    assert await page.evaluate("() => Date.now()") >= opens - 50
    assert await page.evaluate("() => window.__caucusPage.loadedAt") == loaded_at
    await expect(item).to_contain_text("Open now")
    await join.click()
    await page.wait_for_url(f"{server.url}/join/{coming}")
    assert home.errors == []
    await home.close()

    # The coach, in Phoenix (a browser set to Nairobi), sees the same moment in their zone.
    coach = await open_signed_in(browser, server, ruth, f"{server.url}/", "ruth", NAIROBI)
    item = coach.page.locator(f'#upcoming li[data-id="{coming}"]')
    await expect(item.locator(".when time")).to_have_text(local_time(at, PHOENIX))
    await expect(coach.page.get_by_role("link", name="Console")).to_have_attribute("href", "/admin")
    await screenshot(coach, "home-coach-phoenix")
    await coach.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    await coach.page.get_by_role("button", name="Copy").click()
    await expect(coach.page.locator("#feed-copied")).to_have_text("Copied.")
    copied = await coach.page.evaluate("() => navigator.clipboard.readText()")
    assert copied == await coach.page.locator("#feed-url").input_value()
    assert coach.errors == []
    await coach.close()


async def test_the_end_page_sends_a_signed_in_person_to_their_home_page(
    server: LiveServer, browser: Browser
) -> None:
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara", time_zone=NAIROBI)
    room = await server.simulation("boundary-fence")
    url = join_link(server.url, room, server.token(room, "mediator", name="Amara"))
    mediator = await open_signed_in(browser, server, amara, url, "mediator")
    await take_seat_on(mediator, consent=True)
    coach = (await seat_participants(server, room, ["coach"]))["coach"]
    try:
        assert (await coach.call("phase", {"to": "joint"}))["ok"]
        assert (await coach.call("phase", {"to": "ended"}))["ok"]
        link = mediator.page.get_by_role("link", name="Your sessions and feedback")
        await expect(link).to_be_visible()
        await expect(link).to_have_attribute("href", "/")
        await screenshot(mediator, "end-page-signed-in")
        await link.click()
        await expect(mediator.page.get_by_role("heading", name="Your sessions")).to_be_visible()
        assert mediator.errors == []
    finally:
        await coach.close()
        await mediator.close()
