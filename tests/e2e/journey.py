"""Helpers for the fresh-install journey (tests/e2e/test_training_journey.py): the CLI's
first invitation, one browser context per person, their own time zone's clock text."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, ConsoleMessage, Error, Expect, Page, Response

from tests.e2e.browser import DESKTOP, INSTRUMENT, SCREENSHOTS, SeatPage

ROOT = Path(__file__).resolve().parents[2]
#: bounded waits (ms): the journey runs eight pages and a media server, on a loaded machine
WAIT_MS = 30_000
#: this journey's own assertions, with its longer wait (the shared `expect` keeps its own)
expect = Expect()
expect.set_options(timeout=WAIT_MS)
#: every browser runs in a zone nobody in the journey lives in: pages must use the person's
BROWSER_ZONE = "Asia/Kolkata"


@dataclass(frozen=True)
class Newcomer:
    """Somebody the admin invites on the people page."""

    email: str
    name: str
    role: str
    time_zone: str


async def caucus_users_add(data_dir: Path, port: int, email: str, name: str, zone: str) -> str:
    """`caucus users add EMAIL --role admin` as an operator runs it on a fresh install, with
    the port the server will listen on in its environment; the link it prints (stdout)."""
    env = {**os.environ, "CAUCUS_HOST": "127.0.0.1", "CAUCUS_PORT": str(port)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("CAUCUS_PUBLIC_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "caucus",
        "users",
        "add",
        email,
        "--role",
        "admin",
        "--name",
        name,
        "--time-zone",
        zone,
        "--data-dir",
        str(data_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert b"Send them this link" in err, err.decode()
    (link,) = out.decode().split()
    return link


def when_text(ms: int, zone: str) -> str:
    """A moment as home.js's formatWhen shows it: "Wed 2 Dec, 19:05 (Africa/Nairobi)"."""
    local = datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M} ({zone})"


async def person_page(browser: Browser, name: str, url: str) -> SeatPage:
    """A fresh browser context (fake camera and microphone: see CHROMIUM_ARGS) on `url`."""
    context = await browser.new_context(viewport=DESKTOP, timezone_id=BROWSER_ZONE, locale="en-GB")
    await context.add_init_script(INSTRUMENT)
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.set_default_navigation_timeout(WAIT_MS)
    opened = SeatPage(name, context, page)

    def on_console(message: ConsoleMessage) -> None:
        # a failed request is in the response's own entry, below, with its address
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            opened.errors.append(message.text)

    def on_error(error: Error) -> None:
        opened.errors.append(str(error))

    def on_response(response: Response) -> None:
        # no request of the journey is refused: a newcomer's pages ask /api/signed-in
        # (always 200), not /api/me
        if response.status >= 400:
            opened.errors.append(f"{response.status} {response.request.method} {response.url}")

    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", on_error)
    await page.goto(url)
    return opened


async def set_password(page: Page, name: str, password: str) -> None:
    """The invitation page: welcome by name, a password twice, signed in."""
    await expect(page.get_by_role("heading", name=f"Welcome, {name}")).to_be_visible()
    await page.get_by_label("New password").fill(password)
    await page.get_by_label("The same password again").fill(password)
    await page.get_by_role("button", name="Set password and sign in").click()


async def shot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"journey-{name}.png"
    await page.screenshot(path=path, full_page=True)
    return path


async def take_seat(opened: SeatPage, *, consent: bool) -> None:
    """The join page: the device check, the recording question (trainees), seated."""
    page = opened.page
    await expect(page.get_by_role("heading", name="Before you join")).to_be_visible()
    join = page.get_by_role("button", name="Join the session")
    await expect(page.locator("#setup")).to_have_attribute("data-preview", "done")
    if consent:
        await expect(page.locator("#consent-box")).to_be_visible()
        await expect(join).to_be_disabled()
        await page.get_by_label("I agree to this session being recorded").check()
    else:
        await expect(page.locator("#consent-box")).to_be_hidden()  # staff are told, not asked
    await expect(join).to_be_enabled()
    await join.click()
    await expect(page.locator("#link")).to_have_attribute("data-state", "connected")
    await expect(page.locator("#phase-banner")).to_be_visible()


async def phase_is(opened: SeatPage, text: str) -> None:
    await expect(opened.page.locator("#phase-name")).to_have_text(text)
