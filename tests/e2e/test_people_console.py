"""Real Chromium: an invitation link → a password → signed in → the console's people page,
where the admin invites a trainee (the link copied), who signs in from it; deactivation
signs the trainee out at once, and a node that did not answer it is named with a way to
end the seats again; signing out and in again returns to where the admin was."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext, Page, Route, expect

from sessions.people import Role
from storage.invitations import Invitations
from tests.e2e.browser import DESKTOP, SCREENSHOTS, WAIT_MS
from tests.live_server import LiveServer
from web.auth import PEOPLE
from web.people_api import invitation_link


async def _context(browser: Browser, errors: list[str]) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page


async def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


async def _choose_password(page: Page, password: str) -> None:
    await page.get_by_label("New password").fill(password)
    await page.get_by_label("The same password again").fill(password)
    await page.get_by_role("button", name="Set password and sign in").click()


DEACTIVATE = "**/api/people/*/deactivate"


async def _one_node_silent(route: Route) -> None:
    """The server's answer, as a deployment whose node-2 did not answer would give it."""
    response = await route.fetch()
    answer = await response.json()
    assert answer["nodes_unreached"] == []
    await route.fulfill(response=response, json={**answer, "nodes_unreached": ["node-2"]})


async def test_from_invitation_to_the_people_console(browser: Browser, server: LiveServer) -> None:
    errors: list[str] = []
    first = await Invitations(server.app[PEOPLE]).invite(
        "ada@example.org", "Ada Lovelace", Role.ADMIN, "Africa/Nairobi", "cli"
    )
    admin_context, admin = await _context(browser, errors)
    await admin_context.grant_permissions(["clipboard-read", "clipboard-write"])
    await admin.goto(invitation_link(server.url, first.token))
    await expect(admin.get_by_role("heading", name="Welcome, Ada Lovelace")).to_be_visible()
    await _choose_password(admin, "short")
    await expect(admin.locator("#problem")).to_contain_text("at least 10 characters")
    await _choose_password(admin, "ada's first password")
    await admin.wait_for_url("**/admin/live")
    await expect(admin.locator("#you")).to_have_text("Ada Lovelace · admin")

    await admin.get_by_role("link", name="People").click()
    await admin.wait_for_url("**/admin/people")
    await expect(admin.locator("#people-rows tr")).to_have_count(1)
    await admin.get_by_label("Email").fill("joy@example.org")
    await admin.get_by_label("Name").fill("Joy Wanjiru")
    await admin.get_by_label("Role").select_option("trainee")
    await admin.get_by_label("Time zone").fill("Mars/Olympus")
    await admin.get_by_role("button", name="Invite").click()
    await expect(admin.locator("#console-problem")).to_contain_text("not an IANA time zone")
    await admin.get_by_label("Time zone").fill("Africa/Nairobi")
    await admin.get_by_role("button", name="Invite").click()
    await expect(admin.locator("#link-title")).to_have_text("Invitation link for Joy Wanjiru")
    await expect(admin.locator("#console-problem")).to_be_empty()
    link = await admin.locator("#link").text_content() or ""
    assert link.startswith(f"{server.url}/invite/")
    await admin.get_by_role("button", name="Copy").click()
    await expect(admin.locator("#copied")).to_have_text("Copied.")
    assert await admin.evaluate("() => navigator.clipboard.readText()") == link
    joy_row = admin.locator("#people-rows tr", has_text="joy@example.org")
    await expect(joy_row.locator(".status")).to_have_text("invited")
    await _shot(admin, "console-people")

    trainee_context, trainee = await _context(browser, errors)
    await trainee.goto(link)
    await expect(trainee.get_by_role("heading", name="Welcome, Joy Wanjiru")).to_be_visible()
    await _shot(trainee, "invitation-page")
    await _choose_password(trainee, "joy's own password")
    await trainee.wait_for_url(f"{server.url}/")
    me = await trainee.evaluate("() => fetch('/api/me').then((r) => r.json())")
    assert (me["name"], me["role"], me["time_zone"]) == ("Joy Wanjiru", "trainee", "Africa/Nairobi")
    await trainee.goto(link)  # the link worked once
    await expect(trainee.get_by_role("heading", name="This link has been used")).to_be_visible()

    await admin.reload()
    await expect(joy_row.locator(".status")).to_have_text("active")
    await joy_row.get_by_role("button", name="Edit").click()
    editing = admin.locator("#people-rows tr[data-editing]")
    await editing.get_by_label("Time zone of joy@example.org").fill("America/Phoenix")
    await editing.get_by_label("Role of joy@example.org").select_option("coach")
    await editing.get_by_role("button", name="Save").click()
    await expect(joy_row).to_contain_text("America/Phoenix")
    await expect(joy_row).to_contain_text("coach")
    # one node of a scaled-out deployment does not answer (the real answer, with that
    # node named in it as web/every_node.py names a silent one): the console says so
    # and offers to end the seats again, which a second, complete answer clears
    await admin.route(DEACTIVATE, _one_node_silent)
    await joy_row.get_by_role("button", name="Deactivate").click()
    await expect(joy_row.locator(".status")).to_have_text("deactivated")
    await expect(admin.locator("#console-problem")).to_contain_text(
        "Joy Wanjiru is deactivated and signed out, but node-2 did not answer"
    )
    status = await trainee.evaluate("() => fetch('/api/me').then((r) => r.status)")
    assert status == 401  # signed out at once
    await admin.unroute(DEACTIVATE)
    await joy_row.get_by_role("button", name="End their seats again").click()
    await expect(joy_row.get_by_role("button", name="End their seats again")).to_have_count(0)
    await expect(admin.locator("#console-problem")).to_have_text("")
    await expect(joy_row.locator(".status")).to_have_text("deactivated")
    await joy_row.get_by_role("button", name="Reactivate").click()
    await expect(joy_row.locator(".status")).to_have_text("active")
    await joy_row.get_by_role("button", name="Reset password").click()
    await expect(admin.locator("#link-title")).to_have_text("New password link for Joy Wanjiru")
    await _shot(admin, "console-people-reset")

    # signing out, and back in, returns to the page the admin was on
    await admin.get_by_role("button", name="Sign out").click()
    await admin.wait_for_url("**/login")
    await admin.goto(f"{server.url}/admin/people")
    await admin.wait_for_url("**/login?next=%2Fadmin%2Fpeople")
    await admin.get_by_label("Email").fill("ada@example.org")
    await admin.get_by_label("Password").fill("not the password")
    await admin.get_by_role("button", name="Sign in").click()
    await expect(admin.locator("#problem")).to_contain_text("do not match")
    await _shot(admin, "sign-in")
    await admin.get_by_label("Password").fill("ada's first password")
    await admin.get_by_role("button", name="Sign in").click()
    await admin.wait_for_url("**/admin/people")
    await expect(admin.locator("#people-rows tr")).to_have_count(2)
    assert errors == []
    await trainee_context.close()
    await admin_context.close()
