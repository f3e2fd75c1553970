"""With SMTP configured, an invitation is also mailed: a real SMTP server (aiosmtpd) on
loopback receives it with the link; a mail server that is down costs the request nothing."""

from __future__ import annotations

import asyncio
import socket
import threading
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.live_server import start_server


class Inbox:
    """aiosmtpd handler: keeps every message; `arrived` is set by the first."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Message]] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append((envelope, message_from_bytes(envelope.content)))
        self.arrived.set()
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _invite(url: str, admin_token: str, email: str) -> tuple[int, dict[str, Any]]:
    async with ClientSession(headers={"Authorization": f"Bearer {admin_token}"}) as http:
        async with http.post(
            f"{url}/api/people",
            json={"email": email, "name": "Lin Wei", "role": "coach", "time_zone": "Asia/Taipei"},
        ) as response:
            return response.status, await response.json()


async def test_an_invitation_is_mailed_with_its_link(tmp_path: Path) -> None:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    server = await start_server(
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        smtp_from="training@example.org",
    )
    try:
        status, invited = await _invite(server.url, server.config.admin_token, "lin@example.org")
        assert (status, invited["mailed"]) == (201, True)
        assert await asyncio.to_thread(inbox.arrived.wait, 10)
        [(envelope, message)] = inbox.messages
        assert envelope.mail_from == "training@example.org"
        assert envelope.rcpt_tos == ["lin@example.org"]
        assert message["Subject"] == "Your invitation to Caucus"
        body = message.get_payload(decode=True)
        assert isinstance(body, bytes)
        text = body.decode()
        assert invited["link"] in text and "Hello Lin Wei" in text and "(Asia/Taipei)" in text
    finally:
        await server.stop()
        smtp.stop()


async def test_a_mail_server_that_is_down_costs_the_request_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server(
        tmp_path, smtp_host="127.0.0.1", smtp_port=_free_port(), smtp_starttls=False
    )
    try:
        status, invited = await _invite(server.url, server.config.admin_token, "kim@example.org")
        assert (status, invited["mailed"]) == (201, True)
        assert invited["link"].startswith(f"{server.url}/invite/")
    finally:
        await server.stop()  # waits for the failed attempt, which only logs
    assert "could not mail the invitation to kim@example.org" in caplog.text
