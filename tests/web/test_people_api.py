"""/api/people and PATCH /api/me: admins only, every bad input its own code, and
deactivation ends sessions, refuses the password and ends seats held by seat token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import ClientSession

from sessions.people import Role
from storage import audit
from tests.live_server import LiveServer, Participant, seat_participants, start_server
from tests.people import SignedIn, sign_in
from tests.web.test_signin import browser
from web.auth import PEOPLE
from web.keys import DATABASE


async def _call(
    who: SignedIn | None,
    server: LiveServer,
    method: str,
    path: str,
    body: Any = None,
    csrf: bool = True,
) -> tuple[int, Any]:
    headers = who.write_headers if (who and csrf and method != "GET") else {}
    async with ClientSession(cookies=who.cookies if who else {}) as http:
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["json"] = body
        async with http.request(method, f"{server.url}{path}", **kwargs) as response:
            return response.status, await response.json()


INVITE = {
    "email": "joy@example.org",
    "name": "Joy",
    "role": "trainee",
    "time_zone": "Africa/Nairobi",
}


async def test_only_admins_may_use_the_people_api(tmp_path: Path) -> None:
    server = await start_server(tmp_path)
    try:
        admin = await sign_in(server.app, Role.ADMIN)
        coach = await sign_in(server.app, Role.COACH)
        trainee = await sign_in(server.app, Role.TRAINEE)
        target = trainee.person.id
        routes = [
            ("GET", "/api/people", None),
            ("POST", "/api/people", INVITE),
            ("POST", f"/api/people/{target}/deactivate", None),
            ("POST", f"/api/people/{target}/reactivate", None),
            ("POST", f"/api/people/{target}/reset", None),
            ("PATCH", f"/api/people/{target}", {"name": "X"}),
        ]
        for method, path, body in routes:
            assert (await _call(None, server, method, path, body))[0] == 401, path
            for staff in (coach, trainee):
                status, reply = await _call(staff, server, method, path, body)
                assert (status, reply["code"]) == (403, "forbidden"), path
            if method != "GET":
                status, reply = await _call(admin, server, method, path, body, csrf=False)
                assert (status, reply["code"]) == (403, "csrf"), path
        async with ClientSession(headers={"Authorization": "Bearer wrong"}) as http:
            async with http.get(f"{server.url}/api/people", cookies=admin.cookies) as response:
                assert response.status == 401  # a bad token is not rescued by a cookie
        async with ClientSession(
            headers={"Authorization": f"Bearer {server.config.admin_token}"}
        ) as http:
            async with http.get(f"{server.url}/api/people") as response:
                listed = await response.json()
        assert response.status == 200
        assert {p["email"] for p in listed} == {
            admin.person.email,
            coach.person.email,
            trainee.person.email,
        }
        status, listed = await _call(admin, server, "GET", "/api/people")
        mine = next(p for p in listed if p["id"] == admin.person.id)
        assert mine == {
            "id": admin.person.id,
            "email": admin.person.email,
            "name": "Admin",
            "time_zone": "UTC",
            "role": "admin",
            "active": True,
            "has_password": False,
            "created_ms": mine["created_ms"],
            "deactivated_ms": None,
            "cohorts": [],
        }
    finally:
        await server.stop()


async def test_every_bad_input_gets_its_own_code(tmp_path: Path) -> None:
    server = await start_server(tmp_path)
    try:
        admin = await sign_in(server.app, Role.ADMIN)
        status, invited = await _call(admin, server, "POST", "/api/people", INVITE)
        assert status == 201 and invited["person"]["time_zone"] == "Africa/Nairobi"
        joy = invited["person"]["id"]
        cases = [
            ({**INVITE, "email": "joy@"}, 400, "bad_email"),
            ({**INVITE, "email": "a" * 250 + "@example.org"}, 400, "bad_email"),
            ({**INVITE, "email": 7}, 400, "bad_email"),
            ({**INVITE, "email": "x@example.org", "name": ""}, 400, "bad_name"),
            ({**INVITE, "email": "x@example.org", "name": "n" * 81}, 400, "bad_name"),
            (
                {**INVITE, "email": "x@example.org", "time_zone": "Mars/Olympus"},
                400,
                "bad_time_zone",
            ),
            (
                {**INVITE, "email": "x@example.org", "time_zone": "../../etc/passwd"},
                400,
                "bad_time_zone",
            ),
            ({**INVITE, "email": "x@example.org", "role": "owner"}, 400, "bad_role"),
            ({**INVITE, "email": "x@example.org", "role": None}, 400, "bad_role"),
            ({**INVITE, "email": "JOY@example.org"}, 409, "email_taken"),
            ({**INVITE, "email": "x@example.org", "extra": 1}, 400, "bad_request"),
        ]
        for body, expected_status, code in cases:
            status, reply = await _call(admin, server, "POST", "/api/people", body)
            assert (status, reply["code"]) == (expected_status, code), body
        async with ClientSession(cookies=admin.cookies) as http:
            async with http.post(
                f"{server.url}/api/people",
                data=b"{",
                headers={**admin.write_headers, "Content-Type": "application/json"},
            ) as response:
                assert (response.status, (await response.json())["code"]) == (400, "bad_request")
        edits = [
            ({"time_zone": "Nowhere/Special"}, 400, "bad_time_zone"),
            ({"role": "superuser"}, 400, "bad_role"),
            ({"name": " "}, 400, "bad_name"),
            ({"email": "new@example.org"}, 400, "bad_request"),
        ]
        for body, expected_status, code in edits:
            status, reply = await _call(admin, server, "PATCH", f"/api/people/{joy}", body)
            assert (status, reply["code"]) == (expected_status, code), body
        status, reply = await _call(
            admin,
            server,
            "PATCH",
            f"/api/people/{joy}",
            {"name": "Joy  Wanjiru", "role": "coach", "time_zone": "America/Phoenix"},
        )
        assert (status, reply["person"]["name"], reply["person"]["role"]) == (
            200,
            "Joy Wanjiru",
            "coach",
        )
        for path in ["/api/people/nobody/deactivate", "/api/people/nobody/reset"]:
            status, reply = await _call(admin, server, "POST", path)
            assert (status, reply["code"]) == (404, "unknown_person"), path
        status, reply = await _call(admin, server, "PATCH", "/api/people/nobody", {"name": "N"})
        assert (status, reply["code"]) == (404, "unknown_person")
        me = admin.person.id
        for method, path, body in [
            ("POST", f"/api/people/{me}/deactivate", None),
            ("PATCH", f"/api/people/{me}", {"role": "coach"}),
        ]:
            status, reply = await _call(admin, server, method, path, body)
            assert (status, reply["code"]) == (409, "own_account"), path
    finally:
        await server.stop()


async def test_a_person_changes_their_own_name_and_time_zone(tmp_path: Path) -> None:
    server = await start_server(tmp_path)
    try:
        trainee = await sign_in(server.app, Role.TRAINEE)
        status, reply = await _call(
            trainee, server, "PATCH", "/api/me", {"name": "Wanjiru", "time_zone": "Africa/Nairobi"}
        )
        assert (status, reply["person"]["name"], reply["person"]["time_zone"]) == (
            200,
            "Wanjiru",
            "Africa/Nairobi",
        )
        for body, code in [
            ({"time_zone": "Africa/Atlantis"}, "bad_time_zone"),
            ({"name": "x" * 81}, "bad_name"),
            ({"role": "admin"}, "bad_request"),
        ]:
            status, reply = await _call(trainee, server, "PATCH", "/api/me", body)
            assert (status, reply["code"]) == (400, code), body
        status, reply = await _call(trainee, server, "PATCH", "/api/me", {"name": "Y"}, csrf=False)
        assert (status, reply["code"]) == (403, "csrf")
        assert (await _call(None, server, "PATCH", "/api/me", {"name": "Y"}))[0] == 401
        status, me = await _call(trainee, server, "GET", "/api/me")
        assert (me["name"], me["time_zone"], me["role"]) == ("Wanjiru", "Africa/Nairobi", "trainee")
    finally:
        await server.stop()


async def test_deactivation_ends_sessions_and_seats_and_refuses_the_seat_token(
    tmp_path: Path,
) -> None:
    server = await start_server(tmp_path)
    guest: dict[str, Participant] = {}
    person_seat: Participant | None = None
    try:
        admin = await sign_in(server.app, Role.ADMIN)
        status, invited = await _call(admin, server, "POST", "/api/people", INVITE)
        joy = invited["person"]["id"]
        token = invited["link"].rsplit("/", 1)[-1]
        async with browser() as http:
            async with http.post(
                f"{server.url}/api/invitations/{token}", json={"password": "joy's password!"}
            ) as response:
                assert response.status == 200
            # joy takes the mediator's seat with a seat token naming her person id
            room = await server.simulation()
            person_seat = Participant(
                "mediator", server.token(room, "mediator", identity=joy), room
            )
            person_seat.rejoin = False
            await person_seat.connect(server.url)
            assert (await person_seat.join())["ok"]
            guest = await seat_participants(server, room, ["party_a"])
            await guest["party_a"].wait_for_state(
                lambda s: {p["seat"] for p in s["roster"]} == {"mediator", "party_a"}
            )

            status, reply = await _call(admin, server, "POST", f"/api/people/{joy}/deactivate")
            assert (status, reply["person"]["active"], reply["seats_ended"]) == (200, False, 1)
            await guest["party_a"].wait_for_state(
                lambda s: {p["seat"] for p in s["roster"]} == {"party_a"}
            )
            async with http.get(f"{server.url}/api/me") as me:
                assert me.status == 401  # her browser's session ended
            async with http.post(
                f"{server.url}/login",
                json={"email": "joy@example.org", "password": "joy's password!"},
            ) as response:
                assert (response.status, (await response.json())["code"]) == (
                    401,
                    "bad_credentials",
                )
            again = Participant("mediator", person_seat.token, room)
            await again.connect(server.url)
            reply = await again.join()
            await again.close()
            assert (reply["ok"], reply["code"]) == (False, "token_revoked")
            status, reply = await _call(admin, server, "POST", f"/api/people/{joy}/reset")
            assert (status, reply["code"]) == (409, "person_deactivated")

            status, reply = await _call(admin, server, "POST", f"/api/people/{joy}/reactivate")
            assert (status, reply["person"]["active"]) == (200, True)
            back = Participant("mediator", person_seat.token, room)
            await back.connect(server.url)
            assert (await back.join())["ok"]
            await back.close()

            status, reset = await _call(admin, server, "POST", f"/api/people/{joy}/reset")
            assert (status, reset["purpose"], reset["mailed"]) == (200, "reset", False)
        async with server.app[DATABASE].reading() as conn:
            actions = [e["action"] for e in await audit.entries(conn)]
        assert actions[:4] == [
            "person.reset",
            "person.reactivate",
            "person.deactivate",
            "person.invite",
        ]
        assert await server.app[PEOPLE].check_password("joy@example.org", "joy's password!")
    finally:
        for p in [*guest.values(), *([person_seat] if person_seat else [])]:
            await p.close()
        await server.stop()
