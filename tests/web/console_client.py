"""Calling the console API as someone: anonymous, a signed-in person (cookie + CSRF), the token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.live_server import LiveServer
from tests.people import SignedIn


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


@dataclass
class Caller:
    server: LiveServer
    who: SignedIn | None = None
    token: str | None = None  # the admin bearer token
    csrf: bool = True

    async def call(self, method: str, path: str, json: Any = None, **kw: Any) -> Answer:
        headers: dict[str, str] = dict(kw.pop("headers", {}))
        cookies: dict[str, str] = {}
        if self.who is not None:
            cookies = self.who.cookies
            if self.csrf:
                headers |= self.who.write_headers
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        async with aiohttp.ClientSession(cookies=cookies) as http:
            async with http.request(
                method, f"{self.server.url}{path}", json=json, headers=headers, **kw
            ) as response:
                if "json" in response.content_type:
                    return Answer(response.status, await response.json())
                return Answer(response.status, await response.text())

    async def get(self, path: str) -> Answer:
        return await self.call("GET", path)

    async def post(self, path: str, json: Any = None, **kw: Any) -> Answer:
        return await self.call("POST", path, json, **kw)

    async def put(self, path: str, json: Any = None) -> Answer:
        return await self.call("PUT", path, json)

    async def patch(self, path: str, json: Any = None) -> Answer:
        return await self.call("PATCH", path, json)

    async def delete(self, path: str) -> Answer:
        return await self.call("DELETE", path)
