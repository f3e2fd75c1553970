"""A trainee's practice programme in Chromium (issue #15's "Must show"): she states her
weekly availability in Nairobi time (her browser sits in Phoenix), an admin publishes a
round that places her, her home page shows her session on her own clock, she writes a
reflection on a logbook entry and exports the logbook: the CSV is parsed, the PDF is
rendered to an image (poppler's `pdftoppm`) and read back by OCR (`tesseract`).

OCR is fuzzy: the checks look for a few long, distinctive words (the scenario's and the
reflection's) set large enough to read, and accept a word OCR got nearly right
(difflib ratio ≥ 0.8), case and punctuation ignored.
"""

from __future__ import annotations

import asyncio
import csv
import difflib
import io
import os
import re
import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import insert

from sessions.ids import ScenarioId
from sessions.people import Role
from sessions.scenarios import builtin_scenarios
from storage import availability, logbook
from storage.schema import cohort_members
from tests.e2e.browser import SCREENSHOTS, screenshot
from tests.e2e.test_home_page import NAIROBI, PHOENIX, local_time, open_signed_in
from tests.live_server import LiveServer
from tests.logbook_rows import finished
from tests.people import SignedIn, sign_in
from tests.round_rows import TRAINEE_HOURS, next_week, round_cohort
from web.keys import DATABASE

SHIPPED = builtin_scenarios()
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SCENARIO = "The Fence on Alder Lane"  # boundary-fence, the shipped scenario
WENT_WELL = "Reframing transformed the neighbours' positions"
#: words OCR must find on the PDF's first page: the scenario's and the reflection's
OCR_WORDS = ("Fence", "Alder", "Reframing", "transformed", "neighbours")


async def call(who: SignedIn, server: LiveServer, method: str, path: str, json: Any) -> Any:
    async with (
        aiohttp.ClientSession(cookies=who.cookies) as http,
        http.request(method, server.url + path, json=json, headers=who.write_headers) as r,
    ):
        answer = await r.json()
        assert r.status in (200, 201), f"{method} {path}: {r.status} {answer}"
        return answer


def seats_of(group: dict[str, Any]) -> set[str]:
    return {group["mediator"], *group["parties"], *group["observers"]}


async def ocr_words(pdf: Path) -> list[str]:
    """The words tesseract reads on the PDF's first page, rendered at 200 dpi."""
    prefix = pdf.with_suffix("")
    render = await asyncio.create_subprocess_exec(
        "pdftoppm", "-png", "-r", "200", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(prefix)
    )
    assert await asyncio.wait_for(render.wait(), 120) == 0
    image = prefix.with_suffix(".png")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(image, SCREENSHOTS / "programme-logbook-pdf-page1.png")
    # one thread: OpenMP's spinning workers crawl on two cores shared with other jobs
    ocr = await asyncio.create_subprocess_exec(
        "tesseract",
        str(image),
        "stdout",
        "-l",
        "eng",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )
    out, _ = await asyncio.wait_for(ocr.communicate(), 180)
    assert ocr.returncode == 0
    return re.findall(r"[a-z]+", out.decode("utf-8", "replace").lower())


def read(word: str, words: list[str]) -> bool:
    return bool(difflib.get_close_matches(word.lower(), words, n=1, cutoff=0.8))


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("tesseract")),
    reason="poppler-utils and tesseract-ocr are needed (scripts/setup.sh --dev)",
)
async def test_a_trainee_states_availability_sees_her_round_reflects_and_exports(
    server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    db = server.app[DATABASE]
    admin = await sign_in(server.app, Role.ADMIN, name="Ada Admin", time_zone="Europe/London")
    cohort = await round_cohort(db, trainees_per_zone=2)  # 8 trainees with availability
    wanjiru = await sign_in(
        server.app, Role.TRAINEE, "wanjiru@example.org", "Wanjiru Kamau", NAIROBI
    )
    async with db.transaction() as conn:
        await conn.execute(
            insert(cohort_members).values(
                cohort_id=cohort.cohort, person_id=wanjiru.person.id, role="trainee"
            )
        )
    # an earlier simulation she mediated: its logbook entry awaits her reflection
    earlier = await finished(
        db, {"mediator": (wanjiru.person.id, "Wanjiru Kamau"), "party_a": ("guest", "Lin Wei")}
    )
    await logbook.record_completed(db, earlier, lambda i: SHIPPED.get(ScenarioId(i)))

    # -- she states her availability, on her own clock (the browser is in Phoenix)
    opened = await open_signed_in(
        browser, server, wanjiru, f"{server.url}/", "wanjiru", browser_zone=PHOENIX
    )
    page = opened.page
    await page.get_by_role("link", name="Availability").click()
    await expect(page.locator("body[data-ready=true]")).to_be_visible()
    await expect(page.locator("#zone")).to_contain_text(NAIROBI)
    start, end = TRAINEE_HOURS[NAIROBI]  # the other Nairobi trainees' evenings
    for row, day in enumerate(DAYS, start=1):
        await page.get_by_role("button", name="Add a weekly time").click()
        await page.get_by_label(f"Day {row}").select_option(day)
        await page.get_by_label(f"From, row {row}").fill(start)
        await page.get_by_label(f"To, row {row}").fill(end)
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#saved")).to_have_text("Saved.")
    stated = await availability.read(db, wanjiru.person.id)
    assert [
        (s.weekday, s.start.strftime("%H:%M"), s.end.strftime("%H:%M")) for s in stated.weekly
    ] == [(d, start, end) for d in range(7)]
    await screenshot(opened, "programme-availability")

    # -- an admin asks for next week's round and publishes it; it places her
    first, last = next_week()
    proposal = await call(
        admin,
        server,
        "POST",
        "/api/rounds",
        {
            "cohort": cohort.cohort,
            "scenario": "boundary-fence",
            "observers": 0,
            "from": first.isoformat(),
            "to": last.isoformat(),
        },
    )
    mine = wanjiru.person.id
    if not any(mine in seats_of(g) for g in proposal["groups"]):
        # unplaced (the numbers may leave someone out): take a Nairobi trainee's seat,
        # whose availability is the same as hers
        placed = next(
            p for g in proposal["groups"] for p in seats_of(g) if cohort.zone_of.get(p) == NAIROBI
        )
        path = f"/api/rounds/{proposal['id']}/swap"
        proposal = await call(admin, server, "POST", path, {"a": mine, "b": placed})
        assert proposal["broken"] == [], proposal["broken"]
    [group] = [g for g in proposal["groups"] if mine in seats_of(g)]
    published = await call(admin, server, "POST", f"/api/rounds/{proposal['id']}/publish", {})
    assert published["status"] == "published"

    # -- her home page shows the session in Nairobi time, not the browser's Phoenix time
    await page.goto(f"{server.url}/")
    upcoming = page.locator("#upcoming")
    in_nairobi = local_time(group["start_ms"], NAIROBI)
    await expect(upcoming).to_contain_text(in_nairobi)
    assert local_time(group["start_ms"], PHOENIX) not in await upcoming.inner_text()
    await screenshot(opened, "programme-home-round")

    # -- a reflection on the earlier simulation's logbook entry
    await page.goto(f"{server.url}/logbook")
    entry = page.locator("#entries > li[data-source='caucus']")
    await expect(entry).to_have_count(1)
    await expect(entry).to_contain_text(SCENARIO)
    await entry.get_by_role("button", name="Write reflections").click()
    await entry.get_by_label("What went well").fill(WENT_WELL)
    await entry.get_by_label("What I will do next time").fill("Summarise before each caucus")
    await entry.get_by_role("button", name="Save reflections").click()
    await expect(page.locator("#entries > li[data-source='caucus']")).to_contain_text(WENT_WELL)
    await page.evaluate("() => window.scrollTo(0, 0)")
    await screenshot(opened, "programme-logbook-reflection")

    # -- the CSV export, parsed
    async with page.expect_download() as csv_download:
        await page.locator("#export-csv").click()
    text = (await (await csv_download.value).path()).read_bytes().decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    entries = [dict(zip(header, r, strict=True)) for r in rows]
    assert [(e["Scenario"], e["Went well"]) for e in entries] == [(SCENARIO, WENT_WELL)]

    # -- the PDF export, rendered to an image and read back
    async with page.expect_download() as pdf_download:
        await page.locator("#export-pdf").click()
    pdf = tmp_path / "logbook.pdf"
    await (await pdf_download.value).save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    words = await ocr_words(pdf)
    missing = [w for w in OCR_WORDS if not read(w, words)]
    assert not missing, f"OCR did not find {missing} in {' '.join(words)}"
    assert opened.errors == [], opened.errors
    await opened.close()
