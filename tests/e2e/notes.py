"""Coach notes on a recorded colour session, through the annotations API and the page's form.

Shared by the review-notes tests: the playback page's notes (tests/e2e/test_review_notes.py)
and notes placed at their moment, live and exported (tests/e2e/test_note_moments.py).
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.e2e.recorded import ColourSession, api

XSS = "<img src=x onerror=window.__pwned=1>"


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
