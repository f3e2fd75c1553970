"""The feedback digest in Chromium: a coach goes from the console's progress page to a
trainee's feedback, writes a digest and shares it; the trainee sees each rubric skill's
ratings over time (an SVG, one series per skill, the same numbers in a table), the notes
addressed to her (not one from another party's caucus) and the shared digest."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from sessions.people import Role
from storage import cohorts
from storage.people import now_ms
from storage.schema import simulations
from tests.e2e.browser import screenshot
from tests.e2e.test_home_page import open_signed_in
from tests.live_server import LiveServer
from tests.logbook_rows import HOUR_MS, finished, rated
from tests.people import sign_in
from web.keys import DATABASE

TAIPEI = "Asia/Taipei"
DAY_MS = 24 * HOUR_MS
#: each session's ratings to Lin (party_b): reframing, active listening, neutrality
RATINGS = [(2, 3, 2), (3, 3, 3), (4, 5, 3)]


async def test_a_coach_shares_a_digest_and_the_trainee_sees_her_skills_over_time(
    server: LiveServer, browser: Browser
) -> None:
    app = server.app
    db = app[DATABASE]
    lin = await sign_in(app, Role.TRAINEE, "lin@example.org", "Lin Wei", TAIPEI)
    bo = await sign_in(app, Role.TRAINEE, "bo@example.org", "Bo Berg", "Europe/London")
    coach = await sign_in(app, Role.COACH, "ruth@example.org", "Ruth Diaz", "America/Phoenix")
    course = await cohorts.add(
        db,
        {
            "name": "Winter mediation course",
            "starts_on": "2026-01-01",
            "ends_on": "2027-06-30",
            "requirements": {"party_sessions": 3},
        },
    )
    await cohorts.set_members(db, course.id, [coach.person.id], [lin.person.id, bo.person.id])
    sitters = {"party_a": (bo.person.id, "Bo Berg"), "party_b": (lin.person.id, "Lin Wei")}
    sims = []
    for days_ago, (reframing, listening, neutrality) in zip((21, 14, 3), RATINGS, strict=True):
        sim = await finished(db, sitters, t0_ms=now_ms() - days_ago * DAY_MS)
        await rated(db, sim, "party_b", "reframing", reframing, t_ms=10_000)
        await rated(db, sim, "party_b", "active_listening", listening, t_ms=20_000)
        await rated(db, sim, "party_b", "neutrality", neutrality, t_ms=30_000)
        sims.append(sim)
    # said to Lin while Bo was in caucus: never hers
    await rated(db, sims[-1], "party_b", "agreement_drafting", 1, t_ms=90_000)
    async with db.transaction() as conn:
        await conn.execute(
            simulations.update().where(simulations.c.id.in_(sims)).values(cohort_id=course.id)
        )

    # The coach: console progress → Lin's feedback → a draft → shared.
    console = await open_signed_in(browser, server, coach, f"{server.url}/admin/progress", "ruth")
    page = console.page
    row = page.locator(f'#trainees[data-loaded="true"] tr[data-person="{lin.person.id}"]')
    await row.get_by_role("link", name="Feedback and digest for Lin Wei").click()
    await expect(page).to_have_url(f"{server.url}/feedback?person={lin.person.id}")
    await expect(page.locator('main[data-loaded="true"]')).to_be_visible()
    await expect(page.locator("#feedback-title")).to_have_text("Feedback for Lin Wei")
    await page.get_by_label("Strengths").fill("You reframe positions as interests, calmly.")
    await page.get_by_label("Areas to develop").fill("Summarise before moving to options.")
    await page.get_by_label("Next steps").fill("Mediate a caucus in the next round.")
    await page.get_by_role("button", name="Save draft").click()
    digest = page.locator("#digests li.digest")
    await expect(digest).to_have_attribute("data-status", "draft")
    await expect(digest).to_contain_text("Summarise before moving to options.")
    await digest.get_by_role("button", name="Share with Lin Wei").click()
    await expect(digest).to_have_attribute("data-status", "shared")
    await screenshot(console, "feedback-coach-shared")
    # an edit after sharing: a new version, the shared text kept in its history
    await digest.get_by_role("button", name="Edit").click()
    await expect(page.get_by_label("Next steps")).to_have_value(
        "Mediate a caucus in the next round."
    )
    await page.get_by_label("Next steps").fill("Mediate two caucuses in the next round.")
    await page.get_by_role("button", name="Save a new version").click()
    await expect(digest).to_contain_text("version 2")
    await expect(digest.locator("details summary")).to_have_text("Earlier versions (1)")
    assert console.errors == []
    await console.close()

    # Lin: the plot (one series per skill), the table, her notes and the shared digest.
    mine = await open_signed_in(browser, server, lin, f"{server.url}/feedback", "lin")
    page = mine.page
    await expect(page.locator('main[data-loaded="true"]')).to_be_visible()
    plot = page.locator("#plot svg")
    await expect(plot).to_have_attribute("data-series", "3")
    series = plot.locator("g.series")
    await expect(series).to_have_count(3)
    skills = {await g.get_attribute("data-skill") for g in await series.all()}
    assert skills == {"Reframing", "Active listening and reflecting", "Neutrality"}
    for group in await series.all():
        await expect(group.locator("circle")).to_have_count(3)
    await page.locator("#plot-data summary").click()
    await expect(page.locator("#ratings-table tbody tr")).to_have_count(9)
    await expect(page.locator("#notes li")).to_have_count(9)
    await expect(page.locator("#notes")).not_to_contain_text("agreement_drafting")
    digest = page.locator("#digests li.digest")
    await expect(digest).to_have_count(1)
    await expect(digest).to_contain_text("You reframe positions as interests, calmly.")
    await expect(digest).to_contain_text("Mediate two caucuses in the next round.")
    await expect(digest).to_contain_text("version 2")
    await expect(digest.get_by_role("button")).to_have_count(0)  # hers to read, not to edit
    await expect(page.locator("#digest-form")).to_be_hidden()
    await expect(digest.get_by_role("link", name="Download PDF")).to_be_visible()
    await screenshot(mine, "feedback-trainee")
    assert mine.errors == []
    await mine.close()
