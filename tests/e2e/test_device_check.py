"""The join flow before the seat: devices, level meter, audio-only and recording consent."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.e2e.browser import join_link, open_page, screenshot, take_seat
from tests.live_server import LiveServer


async def test_a_trainee_checks_devices_and_must_answer_the_consent_question_before_joining(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence")
    link = join_link(server.url, room, server.token(room, "party_a", name="Wanjiru Kamau"))
    trainee = await open_page(browser, "party_a", link)
    page = trainee.page

    await expect(page.get_by_text("You are joining as Wanjiru Kamau, Party A.")).to_be_visible()
    join = page.get_by_role("button", name="Join the session")
    await expect(join).to_be_disabled()
    await expect(join).to_have_accessible_description("Choose whether you agree to be recorded.")
    # Chromium's fake devices are listed by name once the browser grants access.
    await expect(page.get_by_label("Camera", exact=True).locator("option")).not_to_have_count(0)
    await expect(page.get_by_label("Camera", exact=True)).to_contain_text("fake_device_0")
    await expect(page.get_by_label("Microphone", exact=True)).to_contain_text("Fake")
    await page.wait_for_function(
        "() => { const v = document.getElementById('preview'); return v.videoWidth > 0; }"
    )
    # The fake microphone beeps: the level meter moves.
    await page.wait_for_function("() => document.getElementById('mic-level').value > 0.2")
    await screenshot(trainee, "device-check")

    audio_only = page.get_by_label("Audio only (weak connection)")
    await audio_only.check()
    await expect(page.locator("#preview-note")).to_contain_text("Audio only")
    await expect(page.get_by_label("Camera", exact=True)).to_be_disabled()
    await page.wait_for_function("() => document.getElementById('preview').srcObject === null")
    await page.wait_for_function("() => document.getElementById('mic-level').value > 0.2")

    await page.get_by_label("I agree to this session being recorded").check()
    await expect(join).to_be_enabled()
    await join.click()
    await expect(page.locator("#link")).to_have_attribute("data-state", "connected")
    # The ticked consent reached the server with the `consent` event.
    await page.wait_for_function(
        "() => window.__caucusLog.some("
        "e => e.event === 'ack:consent' && e.data.consent === 'given')"
    )
    # Audio only: nothing goes out from the camera.
    camera = page.locator("#camera")
    await expect(camera).to_be_disabled()
    await expect(camera).to_have_text("Audio only")
    self_tile = page.locator('#tiles > li[data-seat="party_a"]')
    await expect(self_tile).not_to_have_class("has-video")
    live_video = await page.evaluate(
        "document.querySelector('#tiles li.self video').srcObject.getVideoTracks().length"
    )
    assert live_video == 0
    mute = page.get_by_role("button", name="Mute microphone")
    await mute.click()
    await expect(page.get_by_role("button", name="Unmute microphone")).to_be_visible()
    await expect(self_tile).to_contain_text("muted")
    muted = await page.evaluate(
        "document.querySelector('#tiles li.self video').srcObject.getAudioTracks()[0].enabled"
    )
    assert muted is False
    assert trainee.errors == []


async def test_an_observer_joins_without_devices_or_consent(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence", observers=1)
    link = join_link(server.url, room, server.token(room, "observer_1", name="Sam"))
    observer = await open_page(browser, "observer_1", link)
    page = observer.page
    await expect(page.get_by_text("You will watch this session.")).to_be_visible()
    await expect(page.locator("#device-check")).to_be_hidden()
    await expect(page.get_by_label("I agree to this session being recorded")).to_be_hidden()
    await take_seat(observer, consent=False)
    await expect(page.locator("#self-controls")).to_be_hidden()
    assert await page.evaluate("document.getElementById('preview').srcObject") is None
    assert await observer.received("ack:consent") == []  # observers are never recorded
    assert observer.errors == []


async def test_a_link_without_a_token_explains_itself(server: LiveServer, browser: Browser) -> None:
    room = await server.simulation("boundary-fence")
    page = await open_page(browser, "nobody", f"{server.url}/join/{room}")
    # nobody signed in and no personal link: the page says how to get a seat
    alert = page.page.get_by_role("alert")
    await expect(alert).to_contain_text("personal join link, or sign in")
    await expect(alert.get_by_role("link", name="Sign in")).to_be_visible()
    await expect(page.page.locator("#setup")).to_be_hidden()


async def test_a_refused_token_is_reported_and_not_retried(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence")
    forged = server.token(room, "party_a")[:-4] + "AAAA"
    page = await open_page(browser, "party_a", join_link(server.url, room, forged))
    await page.page.get_by_label("I agree to this session being recorded").check()
    await page.page.get_by_role("button", name="Join the session").click()
    notice = page.page.locator("#notice")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("Could not join")
    joins = await page.received("ack:join")
    assert [j["data"]["code"] for j in joins] == ["token_invalid"]
