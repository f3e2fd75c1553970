"""Coach notes on a recording's playback page: a coach adds, edits, seeks to and deletes
one; only a note's author may change it, and refusals are shown; its text is shown
literally, never as markup; a party sees and replies to only the feedback addressed to them;
and the recording's own payload names the skills and characters the notes use."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Route, expect

from tests.e2e.browser import screenshot
from tests.e2e.notes import XSS, add_note, notes_path, post_note, stored
from tests.e2e.recorded import (
    END_MS,
    ColourSession,
    api,
    click_timeline,
    expect_time,
    open_playback,
    record_colour_session,
    segments_for,
    stamp,
    video_at,
)
from tests.live_server import LiveServer


@pytest.fixture
async def session(server: LiveServer) -> ColourSession:
    return await record_colour_session(server, "coach-ana")


async def test_a_coach_adds_edits_seeks_to_and_deletes_a_note(
    browser: Browser, session: ColourSession
) -> None:
    coach = await open_playback(browser, session, "coach")
    page = coach.page
    t = await click_timeline(page, 0.25)
    await page.locator("#note-text").fill("Good open question to Amara")
    await expect(page.locator("#note-when")).to_have_attribute("data-t-ms", str(t))
    await page.locator("#note-skill").select_option("active_listening")
    await page.locator("#note-rating").select_option("4")
    await page.locator("#note-target").select_option("party_a")
    await expect(page.locator("#note-visibility")).to_have_value("target")
    await page.get_by_role("button", name="Add note").click()

    item = page.locator("#notes > li.note")
    await expect(item).to_have_count(1)
    await expect(item.locator(".note-time")).to_have_text(stamp(t))
    await expect(item.locator(".skill-chip")).to_have_text("Active listening and reflecting · 4/5")
    await expect(item.locator(".note-text")).to_have_text("Good open question to Amara")
    await expect(item.locator(".note-meta")).to_contain_text("→ Party A (Wanjiru Kamau)")
    [note] = await stored(session)
    assert (note["t_ms"], note["skill"], note["rating"], note["target"], note["visibility"]) == (
        t,
        "active_listening",
        4,
        "party_a",
        "target",
    )
    # Its marker has the skill's colour: the rubric's second skill, the palette's second colour.
    marker = page.locator(f'.marker[data-note="{note["id"]}"]')
    await expect(marker).to_have_css("background-color", "rgb(213, 94, 0)")
    await screenshot(coach, "playback-coach-notes-1280x720")

    await item.get_by_role("button", name="Edit").click()
    await expect(page.locator("#note-text")).to_have_value("Good open question to Amara")
    await expect(page.locator("#note-skill")).to_have_value("active_listening")
    await page.locator("#note-text").fill("Open question; then summarise")
    await page.locator("#note-rating").select_option("5")
    await page.get_by_role("button", name="Save changes").click()
    await expect(item.locator(".note-text")).to_have_text("Open question; then summarise")
    await expect(item.locator(".note-meta")).to_contain_text("edited")
    [edited] = await stored(session)
    assert (edited["id"], edited["t_ms"], edited["rating"]) == (note["id"], t, 5)
    assert edited["text"] == "Open question; then summarise" and edited["edited_ms"]

    # The marker and the note's time both take every player there.
    segments = await segments_for(session, session.token("coach"))
    await page.locator(".timeline .track").focus()
    await page.keyboard.press("End")
    await expect_time(page, END_MS)
    await marker.click()
    await expect_time(page, t)
    mediator = video_at(segments, "mediator", t)
    assert mediator is not None
    offset = (t - mediator["start_ms"]) / 1000
    video = page.locator('#players video[data-seat="mediator"]')
    await expect(video).to_have_attribute("data-segment", str(mediator["id"]))
    assert abs(await video.evaluate("v => v.currentTime") - offset) <= 0.15
    await page.keyboard.press("Home")
    await expect_time(page, 0)
    await item.locator(".note-time").click()
    await expect_time(page, t)

    await item.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("group", name="Confirm deleting the note")
    await confirm.get_by_role("button", name="Delete").click()
    await expect(page.locator("#notes > li.note")).to_have_count(0)
    await expect(page.locator(".marker")).to_have_count(0)
    assert await stored(session) == []
    assert coach.errors == []


async def test_refusals_are_shown_and_only_a_notes_author_may_change_it(
    browser: Browser, session: ColourSession
) -> None:
    await post_note(session, session.admin_token, t_ms=1000, text="From the admin")
    coach = await open_playback(browser, session, "coach")
    page = coach.page
    admins = page.locator("#notes > li.note", has_text="From the admin")
    await expect(admins).to_have_count(1)
    # Not the coach's note: nothing offers to change it.
    await expect(admins.get_by_role("button", name="Edit")).to_have_count(0)
    await expect(admins.get_by_role("button", name="Delete")).to_have_count(0)

    await click_timeline(page, 0.5)
    await add_note(page, "Mine")
    mine = page.locator("#notes > li.note", has_text="Mine")
    [stored_mine] = [n for n in await stored(session) if n["text"] == "Mine"]

    # 404: the admin deleted it meanwhile.
    await mine.get_by_role("button", name="Edit").click()
    status, _ = await api(
        session.server,
        "DELETE",
        f"{notes_path(session)}/{stored_mine['id']}",
        session.admin_token,
    )
    assert status == 200
    await page.locator("#note-text").fill("Mine, changed")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator(".note-form .problem")).to_contain_text("Not found")

    # 403, as the API would answer someone else's change: the message is shown as sent.
    async def refuse(route: Route) -> None:
        message = "only the note's author or an admin may change it"
        body = {"ok": False, "code": "forbidden", "message": message}
        await route.fulfill(status=403, json=body)

    await page.route(f"**{notes_path(session)}/*", refuse)
    await page.get_by_role("button", name="Cancel").click()
    await mine.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("group", name="Confirm deleting the note")
    await confirm.get_by_role("button", name="Delete").click()
    await expect(mine.locator(".problem")).to_have_text(
        "Not allowed: only the note's author or an admin may change it."
    )
    # The browser reports each refused request on the console; nothing else went wrong.
    assert [e for e in coach.errors if "Failed to load resource" not in e] == []


async def test_note_text_is_shown_literally_never_as_markup(
    browser: Browser, session: ColourSession
) -> None:
    coach = await open_playback(browser, session, "coach")
    page = coach.page
    t = await click_timeline(page, 0.4)
    await add_note(page, XSS)
    text = page.locator("#notes .note-text")
    await expect(text).to_have_count(1)
    assert await text.text_content() == XSS
    marker = page.locator(".marker")
    assert await marker.get_attribute("title") == f"{stamp(t)} · {XSS}"
    await page.reload()  # rendered again from what the server stored
    await expect(page.locator("#notes .note-text")).to_have_count(1)
    assert await page.locator("#notes .note-text").text_content() == XSS
    await expect(page.locator("#notes img, .timeline img")).to_have_count(0)
    assert await page.evaluate("window.__pwned") is None
    assert coach.errors == []


async def test_a_party_replies_to_feedback_addressed_to_them_and_sees_no_other(
    browser: Browser, session: ColourSession
) -> None:
    coach_token = session.token("coach")
    for_a = await post_note(
        session,
        coach_token,
        t_ms=2000,
        text="Amara, you named your interest well",
        target="party_a",
        visibility="target",
    )
    await post_note(session, coach_token, t_ms=3000, text="Coaches only: watch Amara's tone")
    await post_note(
        session, coach_token, t_ms=9000, text="Tomasz, good", target="party_b", visibility="target"
    )

    party_a = await open_playback(browser, session, "party_a")
    page = party_a.page
    notes = page.locator("#notes > li.note")
    await expect(notes).to_have_count(1)
    await expect(notes).to_contain_text("Amara, you named your interest well")
    await expect(page.locator("#note-form-card")).to_be_hidden()
    await expect(notes.get_by_role("button", name="Edit")).to_have_count(0)
    await expect(notes.get_by_role("button", name="Delete")).to_have_count(0)
    await notes.get_by_role("button", name="Reply").click()
    await page.get_by_label("Your reply to your coach").fill("Thanks, I will keep doing that")
    await page.get_by_role("button", name="Send reply").click()
    reply = notes.locator(".replies > li.note.reply")
    await expect(reply).to_have_count(1)
    await expect(reply.locator(".note-text")).to_have_text("Thanks, I will keep doing that")

    replies = [n for n in await stored(session, coach_token) if n["reply_to"]]
    assert [(r["reply_to"], r["author_seat"], r["target"]) for r in replies] == [
        (for_a["id"], "party_a", "party_a")
    ]
    coach = await open_playback(browser, session, "coach")
    coach_view = coach.page.locator(f'#notes > li.note[data-note="{for_a["id"]}"]')
    await expect(coach_view.locator(".replies")).to_contain_text("Thanks, I will keep doing that")

    party_b = await open_playback(browser, session, "party_b")
    await expect(party_b.page.locator("#notes > li.note")).to_have_count(1)
    await expect(party_b.page.locator("#notes")).to_contain_text("Tomasz, good")
    await expect(party_b.page.locator("#notes")).not_to_contain_text("Amara")
    assert party_a.errors == [] and coach.errors == [] and party_b.errors == []


async def test_the_recording_payload_names_skills_and_characters_and_an_edit_keeps_the_skill(
    browser: Browser, session: ColourSession
) -> None:
    """GET /api/recordings/{id} carries `rubric` and `parties` itself (nothing added in
    flight): the skill picker, the characters' names, and editing a skill note keeps it."""
    note = await post_note(
        session, session.token("coach"), t_ms=2500, text="Tagged", skill="reframing", rating=2
    )
    coach = await open_playback(browser, session, "coach", extra_fields=False)
    page = coach.page
    await expect(page.locator("#note-skill")).to_be_visible()
    await expect(page.locator('.band[data-kind="caucus"]')).to_have_text("Caucus with Amara Okafor")
    await expect(page.locator('#players li[data-seat="party_a"]')).to_contain_text(
        "Party A · as Amara Okafor"
    )
    item = page.locator("#notes > li.note")
    await expect(item.locator(".skill-chip")).to_have_text("Reframing · 2/5")
    await item.get_by_role("button", name="Edit").click()
    await expect(page.locator("#note-skill")).to_have_value("reframing")
    await page.locator("#note-text").fill("Tagged, and explained")
    await page.get_by_role("button", name="Save changes").click()
    await expect(item.locator(".note-text")).to_have_text("Tagged, and explained")
    [edited] = await stored(session)
    assert (edited["id"], edited["skill"], edited["rating"]) == (note["id"], "reframing", 2)
    assert coach.errors == []
