"""The console's recordings page in real Chromium: filter, open the playback with the
sign-in cookie alone, delete with a confirmation (the notes go too), read the audit log."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect
from sqlalchemy import func, select

from sessions.people import Role
from storage.schema import notes
from tests.e2e.browser import DESKTOP, SCREENSHOTS, WAIT_MS
from tests.home_rows import cohort_with_coach
from tests.live_server import LiveServer
from tests.people import sign_in
from tests.stored_sessions import DAY_MS, add_session, now_ms
from web.auth import COOKIE
from web.keys import DATABASE


async def test_an_admin_filters_opens_and_deletes_recordings(
    server: LiveServer, browser: Browser
) -> None:
    db, folder = server.app[DATABASE], server.config.recordings_dir
    admin = await sign_in(server.app, Role.ADMIN, "ada@example.org", "Ada", "Africa/Nairobi")
    amara = await sign_in(server.app, Role.TRAINEE, "amara@example.org", "Amara Odhiambo")
    now = now_ms()
    cohort = await cohort_with_coach(db, admin.person.id)
    amaras = await add_session(
        db,
        folder,
        created_ms=now - 2 * DAY_MS,
        seats={"mediator": amara.person.id},
        note_count=3,
        cohort_id=cohort,
    )
    await add_session(db, folder, created_ms=now - DAY_MS, seats={"mediator": "guest-lin"})
    await add_session(db, folder, created_ms=now - 40 * DAY_MS, seats={"party_a": "guest-kofi"})

    context = await browser.new_context(viewport=DESKTOP)
    await context.add_cookies([{"name": COOKIE, "value": admin.token, "url": server.url}])
    page = await context.new_page()
    try:
        await page.goto(f"{server.url}/admin/recordings")
        await expect(page.locator("body[data-ready='true']")).to_be_attached(timeout=WAIT_MS)
        rows = page.locator("#recordings tbody tr")
        await expect(rows).to_have_count(3)
        # the cohorts the admin sees make the cohort filter
        await expect(page.locator("#cohort-filter")).to_be_visible()
        await page.select_option("#filter-cohort", cohort)
        await page.click("#filters button[type=submit]")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_have_attribute("data-room", amaras)
        await page.select_option("#filter-cohort", "")
        await page.click("#filters button[type=submit]")
        await expect(rows).to_have_count(3)

        await page.fill("#filter-person", "odhiambo")
        await page.click("#filters button[type=submit]")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_have_attribute("data-room", amaras)
        await page.click("#filter-clear")
        await expect(rows).to_have_count(3)
        # the last week, as dates in the person's own time zone
        week_ago = await page.evaluate(
            "() => new Intl.DateTimeFormat('en-CA', {timeZone: 'Africa/Nairobi'})"
            ".format(Date.now() - 7 * 86400000)"
        )
        await page.fill("#filter-from", week_ago)
        await page.click("#filters button[type=submit]")
        await expect(rows).to_have_count(2)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / "console-recordings.png", full_page=True)

        amara_row = page.locator(f"#recordings tbody tr[data-room='{amaras}']")
        await amara_row.get_by_role("button", name="Delete").click()
        dialog = page.locator("#confirm-delete")
        await expect(dialog).to_be_visible()
        await page.screenshot(path=SCREENSHOTS / "console-recordings-delete.png")
        await dialog.get_by_role("button", name="Keep it").click()
        await expect(dialog).to_be_hidden()
        await expect(rows).to_have_count(2)

        await amara_row.get_by_role("link", name="Open").click()
        await expect(page.locator("#playback")).to_be_visible()
        await expect(page.locator("#notice")).to_be_hidden()
        await page.go_back()
        await expect(page.locator("body[data-ready='true']")).to_be_attached()

        await amara_row.get_by_role("button", name="Delete").click()
        await dialog.get_by_role("button", name="Delete recording and notes").click()
        await expect(amara_row).to_have_count(0)
        audit_row = page.locator("#audit tbody tr").first
        await expect(audit_row).to_contain_text("recording.delete")
        await expect(audit_row).to_contain_text(amaras)
        await expect(audit_row).to_contain_text(admin.person.id)
        await page.screenshot(path=SCREENSHOTS / "console-recordings-deleted.png", full_page=True)
    finally:
        await context.close()
    async with db.reading() as conn:
        left = await conn.scalar(
            select(func.count()).select_from(notes).where(notes.c.simulation_id == amaras)
        )
    assert left == 0
    assert not (folder / amaras).exists()


async def test_the_playback_page_works_with_the_sign_in_cookie_alone(
    server: LiveServer, browser: Browser
) -> None:
    db, folder = server.app[DATABASE], server.config.recordings_dir
    admin = await sign_in(server.app, Role.ADMIN)
    amara = await sign_in(server.app, Role.TRAINEE)
    hers = await add_session(db, folder, seats={"mediator": amara.person.id}, note_count=0)
    other = await add_session(db, folder, seats={"mediator": "guest"}, note_count=0)

    async def page_for(token: str | None) -> Page:
        context = await browser.new_context(viewport=DESKTOP)
        if token is not None:
            await context.add_cookies([{"name": COOKIE, "value": token, "url": server.url}])
        return await context.new_page()

    staff = await page_for(admin.token)
    trainee = await page_for(amara.token)
    nobody = await page_for(None)
    try:
        # an admin's note is a cookie-authenticated write: it carries the CSRF token
        await staff.goto(f"{server.url}/recordings/{hers}")
        await expect(staff.locator("#playback")).to_be_visible()
        await staff.locator("#note-text").fill("Signed in, no link")
        await staff.get_by_role("button", name="Add note").click()
        await expect(staff.locator("#note-text")).to_have_value("")
        await expect(staff.locator("#notes")).to_contain_text("Signed in, no link")

        await trainee.goto(f"{server.url}/recordings/{hers}")
        await expect(trainee.locator("#playback")).to_be_visible()
        # the note is for coaches (the form's default): her own seat's rules apply
        await expect(trainee.locator("#notes")).to_contain_text("No feedback for you")
        await trainee.goto(f"{server.url}/recordings/{other}")
        await expect(trainee.locator("#notice-title")).to_have_text("Could not open this recording")

        await nobody.goto(f"{server.url}/recordings/{hers}")
        await expect(nobody.locator("#notice-title")).to_have_text("This link has no access")
    finally:
        for page in (staff, trainee, nobody):
            await page.context.close()
    async with db.reading() as conn:
        written = (await conn.execute(select(notes.c.author, notes.c.text))).all()
    assert [tuple(row) for row in written] == [(None, "Signed in, no link")]
