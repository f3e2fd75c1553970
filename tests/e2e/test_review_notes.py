"""Coach feedback in the browser: notes on a recording (add, edit, seek, delete, reply,
export) and live notes in the room, placed at the moment the coach saw it."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Route, expect

from tests.e2e.browser import screenshot, seat
from tests.e2e.recorded import (
    END_MS,
    ColourSession,
    api,
    click_timeline,
    expect_time,
    open_playback,
    record_colour_session,
    review_fields,
    segments_for,
    stamp,
    video_at,
)
from tests.live_server import LiveServer
from web.keys import DIRECTORY

XSS = "<img src=x onerror=window.__pwned=1>"
#: how long an exported note stays on screen (recordings/exports.py)
CUE_MS = 4000
#: how far a live note may land from the session time of its keystroke
LIVE_TOLERANCE_MS = 250


@pytest.fixture
async def session(server: LiveServer) -> ColourSession:
    return await record_colour_session(server, "coach-ana")


def notes_path(session: ColourSession) -> str:
    return f"/api/recordings/{session.room}/annotations"


async def stored(session: ColourSession, token: str | None = None) -> list[dict[str, Any]]:
    status, notes = await api(
        session.server, "GET", notes_path(session), token or session.admin_token
    )
    assert status == 200, notes
    return sorted(notes, key=lambda n: (n["t_ms"], n["created_ms"]))


async def post_note(session: ColourSession, token: str, **note: Any) -> dict[str, Any]:
    status, body = await api(session.server, "POST", notes_path(session), token, note)
    assert status == 201, body
    return dict(body)


async def add_note(page: Page, text: str, **choices: str) -> None:
    """Write a note at the playhead through the form; choices: skill, rating, target."""
    await page.locator("#note-text").fill(text)
    for field, value in choices.items():
        await page.locator(f"#note-{field}").select_option(value)
    await page.get_by_role("button", name="Add note").click()
    await expect(page.locator("#note-text")).to_have_value("")


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


@dataclass(frozen=True)
class Cue:
    identifier: str | None
    start_ms: int
    end_ms: int
    payload: str  # as written (escaped)


TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
TIMING = re.compile(rf"^{TIMESTAMP}[ \t]+-->[ \t]+{TIMESTAMP}(?:[ \t]+[^\n]*)?$")
REFERENCE = re.compile(r"&(?:amp|lt|gt|lrm|rlm|nbsp);")


def _ms(hours: str | None, minutes: str, seconds: str, millis: str) -> int:
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def parse_webvtt(text: str) -> list[Cue]:
    """A strict reader of the WebVTT file syntax (W3C WebVTT §4.1) for what the export
    may contain: the signature line, comment blocks and cues with escaped text only."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    first, _, rest = text.partition("\n")
    assert re.fullmatch(r"WEBVTT(?:[ \t][^\n]*)?", first), f"bad signature {first!r}"
    assert "-->" not in first
    blocks = [b for b in re.split(r"\n{2,}", rest) if b.strip("\n")]
    cues: list[Cue] = []
    for block in blocks:
        lines = block.strip("\n").split("\n")
        if re.match(r"NOTE(?:[ \t]|$)", lines[0]):
            assert "-->" not in block, f"a comment may not contain '-->': {block!r}"
            continue
        assert not re.match(r"(STYLE|REGION)(?:[ \t]|$)", lines[0]), "unexpected block"
        identifier = None
        if "-->" not in lines[0]:
            identifier, lines = lines[0], lines[1:]
        assert lines, f"a cue without timings: {block!r}"
        timing = TIMING.match(lines[0])
        assert timing, f"bad cue timings {lines[0]!r}"
        start, end = _ms(*timing.groups()[:4]), _ms(*timing.groups()[4:])
        assert end > start, f"a cue must end after it starts: {lines[0]!r}"
        payload = lines[1:]
        assert payload, f"a cue without text: {block!r}"
        for line in payload:
            assert line.strip() and "-->" not in line, f"bad cue text line {line!r}"
            assert "<" not in line, f"markup in cue text (not escaped): {line!r}"
            bare = REFERENCE.sub("", line)
            assert "&" not in bare, f"a bare '&' in cue text: {line!r}"
        assert not cues or start >= cues[-1].start_ms, "cues must be in start-time order"
        cues.append(Cue(identifier, start, end, "\n".join(payload)))
    ids = [c.identifier for c in cues if c.identifier]
    assert len(ids) == len(set(ids)), "cue identifiers must be unique"
    return cues


def caption(note: dict[str, Any], skills: dict[str, str]) -> str:
    """What a note's cue says: "<author seat>: [Skill (r/5)] text" (lines kept, blanks dropped)."""
    label = ""
    if note["skill"]:
        label = skills[note["skill"]] + (f" ({note['rating']}/5)" if note["rating"] else "")
        label = f"[{label}]"
    said = " ".join(p for p in (label, note["text"]) if p)
    return "\n".join(
        x for x in f"{note['author_seat'] or 'admin'}: {said}".splitlines() if x.strip()
    )


async def download(page: Page, fmt: str, room: str) -> str:
    async with page.expect_download() as info:
        await page.locator(f'#exports button[data-format="{fmt}"]').click()
    got = await info.value
    assert got.suggested_filename == f"caucus-{room}-feedback.{fmt}"
    path = await got.path()
    return path.read_text(encoding="utf-8")


async def test_the_exported_webvtt_parses_and_its_cues_are_the_notes(
    browser: Browser, session: ColourSession
) -> None:
    skills = {s["id"]: s["name"] for s in review_fields(session)["rubric"]}
    coach = await open_playback(browser, session, "coach")
    page = coach.page
    await click_timeline(page, 0.3)
    await add_note(page, XSS, skill="reframing", rating="3", target="party_a")
    await click_timeline(page, 0.7)
    await add_note(page, "Back in joint & calmer --> good")
    await post_note(session, session.admin_token, t_ms=500, skill="opening_statement", rating=4)
    await post_note(session, session.token("coach"), t_ms=11_000, text="Two lines\n\nof text")
    [first] = [n for n in await stored(session) if n["text"] == XSS]
    await post_note(
        session, session.token("party_a"), t_ms=first["t_ms"], text="I <3 it", reply_to=first["id"]
    )
    await page.reload()
    await expect(page.locator("#notes li.note")).to_have_count(5)

    notes = await stored(session, session.token("coach"))
    cues = parse_webvtt(await download(page, "vtt", session.room))
    assert [c.identifier for c in cues] == [n["id"] for n in notes]
    assert [(c.start_ms, c.end_ms) for c in cues] == [
        (n["t_ms"], n["t_ms"] + CUE_MS) for n in notes
    ]
    assert [html.unescape(c.payload) for c in cues] == [caption(n, skills) for n in notes]
    assert any("&lt;img src=x" in c.payload for c in cues)

    rows = list(csv.DictReader(io.StringIO(await download(page, "csv", session.room))))
    assert sorted(r["id"] for r in rows) == sorted(n["id"] for n in notes)
    assert {r["text"] for r in rows} >= {XSS, "Two lines\n\nof text"}
    exported = json.loads(await download(page, "json", session.room))
    assert sorted(a["id"] for a in exported["annotations"]) == sorted(n["id"] for n in notes)
    assert coach.errors == []


async def test_a_coach_notes_a_moment_live_with_one_keystroke_and_the_admin_sees_it(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence")
    coach = await seat(browser, server, room, "coach", "Dr Helen Brandt")
    admin = await seat(browser, server, room, "admin", "Ada Admin")
    directory = server.app[DIRECTORY]
    live = await directory.open(room)
    card = coach.page.locator("#live-notes")
    await expect(card).to_be_visible()
    await expect(card.locator(".skill-button")).to_have_count(8)

    # "n" stamps the moment; the note is written afterwards and sent with Enter.
    before = directory.now_ms(live)
    await coach.page.keyboard.press("n")
    after = directory.now_ms(live)
    box = coach.page.locator("#live-note-text")
    await expect(box).to_be_focused()
    text = "Reframed the fence as a shared boundary"
    await coach.page.keyboard.type(text, delay=40)  # a person typing: ~1.6 s after the key
    await expect(box).to_have_value(text)  # the "n" itself was not typed
    await coach.page.keyboard.press("Enter")
    await expect(card.locator(".live-log li.mine")).to_have_count(1)
    sent = directory.now_ms(live)

    log = admin.page.locator("#live-notes .live-log")
    await expect(log).to_contain_text(text)
    [event] = await admin.received("annotation")
    note = event["data"]
    assert note["text"] == text and note["author_seat"] == "coach"
    assert before - LIVE_TOLERANCE_MS <= note["t_ms"] <= after + LIVE_TOLERANCE_MS, (
        before,
        note["t_ms"],
        after,
    )
    assert sent - note["t_ms"] >= 1000, "placed at the keystroke, not when it arrived"

    # One click on a skill tags the moment at once; so does its number key.
    before = directory.now_ms(live)
    await card.locator('.skill-button[data-skill="reframing"]').click()
    after = directory.now_ms(live)
    await expect(log.locator("li")).to_have_count(2)
    await coach.page.keyboard.press("2")  # the second skill of the rubric
    await expect(log.locator("li")).to_have_count(3)

    status, notes = await api(
        server, "GET", f"/api/recordings/{room}/annotations", server.config.admin_token
    )
    assert status == 200
    by_time = sorted(notes, key=lambda n: n["created_ms"])
    assert by_time[0] == note
    assert by_time[1]["skill"] == "reframing" and not by_time[1]["text"]
    assert before - LIVE_TOLERANCE_MS <= by_time[1]["t_ms"] <= after + LIVE_TOLERANCE_MS
    assert by_time[2]["skill"] == "active_listening"
    assert coach.errors == [] and admin.errors == []
