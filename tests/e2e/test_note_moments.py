"""A coach's note is tied to the moment of the session it is about: exported, each note is
a WebVTT cue starting at its moment (a strict parse of the file), with the same notes in the
CSV and JSON exports; taken live in the room, it lands at the coach's keystroke (a key, or
one click on a skill) and the admin sees it."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.browser import seat
from tests.e2e.notes import XSS, add_note, post_note, stored
from tests.e2e.recorded import (
    ColourSession,
    api,
    click_timeline,
    open_playback,
    record_colour_session,
    review_fields,
)
from tests.live_server import LiveServer
from web.keys import DIRECTORY

#: how long an exported note stays on screen (recordings/exports.py)
CUE_MS = 4000
#: how far a live note may land from the session time of its keystroke
LIVE_TOLERANCE_MS = 250


@pytest.fixture
async def session(server: LiveServer) -> ColourSession:
    return await record_colour_session(server, "coach-ana")


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
