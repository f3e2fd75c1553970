"""A recording says what its viewer may do and each named seat's role (the page derives neither)."""

from __future__ import annotations

import aiohttp
import pytest

from tests.recorded_session import Recorded


@pytest.mark.parametrize(
    ("who", "staff", "annotate", "reply"),
    [
        ("admin", True, True, "any"),
        ("coach", True, True, "any"),
        ("party_a", False, False, "addressed"),
    ],
)
async def test_the_recording_tells_its_viewer_what_they_may_do(
    recorded: Recorded,
    http: aiohttp.ClientSession,
    who: str,
    staff: bool,
    annotate: bool,
    reply: str,
) -> None:
    admin = who == "admin"
    token = recorded.server.config.admin_token if admin else recorded.token(who)
    url = f"{recorded.server.url}/api/recordings/{recorded.room}"
    async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 200
        data = await r.json()
    assert data["viewer"] == {
        "seat": None if admin else who,
        "role": "admin" if admin else {"coach": "coach", "party_a": "party"}[who],
        "identity": None if admin else f"{recorded.room}:{who}",
        "admin": admin,
        "staff": staff,
        "may_annotate": annotate,
        "may_reply": reply,
        "note_targets": ["mediator", "party_a", "party_b"],
    }
    assert data["roles"] == {
        "mediator": "mediator",
        "party_a": "party",
        "party_b": "party",
        "coach": "coach",
    }
    assert {p["seat"]: p["role"] for p in data["people"]} == data["roles"]
