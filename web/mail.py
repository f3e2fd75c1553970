"""Invitation mails over SMTP (optional), sent off the request path.

Without CAUCUS_SMTP_HOST nothing is sent and the console shows each link to
copy; with it, the link is shown *and* mailed. A mail server that is down or
refuses costs one warning in the log, never the request: the admin still has
the link on screen.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sessions.people import Person

if TYPE_CHECKING:
    from caucus.config import Config

logger = logging.getLogger(__name__)

SEND_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""
    starttls: bool = True

    @classmethod
    def from_config(cls, config: Config) -> SmtpSettings:
        return cls(
            config.smtp_host,
            config.smtp_port,
            config.smtp_user,
            config.smtp_password,
            config.smtp_from,
            config.smtp_starttls,
        )

    @property
    def from_address(self) -> str:
        return self.sender or (self.user if "@" in self.user else f"caucus@{self.host}")


def invitation_message(
    settings: SmtpSettings, person: Person, link: str, purpose: str, expires_ms: int
) -> EmailMessage:
    expires = datetime.fromtimestamp(expires_ms / 1000, ZoneInfo(person.time_zone))
    message = EmailMessage()
    message["From"] = settings.from_address
    message["To"] = person.email
    if purpose == "reset":
        message["Subject"] = "Set a new password for Caucus"
        opening = "An administrator has reset your Caucus password."
    else:
        message["Subject"] = "Your invitation to Caucus"
        opening = "You have been invited to Caucus, the mediation training simulator."
    message.set_content(
        f"Hello {person.name},\n\n{opening}\n"
        f"Open this link to choose your password (it works once):\n\n  {link}\n\n"
        f"The link expires on {expires:%A %d %B %Y at %H:%M} ({person.time_zone}).\n"
    )
    return message


class Mailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._sending: set[asyncio.Task[bool]] = set()

    def send_invitation(self, person: Person, link: str, purpose: str, expires_ms: int) -> None:
        """Queue the mail and return at once."""
        self.send(invitation_message(self.settings, person, link, purpose, expires_ms))

    def send(self, message: EmailMessage, what: str = "invitation") -> None:
        """Queue any message (From is set here when missing) and return at once; `what`
        names it in the log."""
        if message["From"] is None:
            message["From"] = self.settings.from_address
        task = asyncio.create_task(self._send(message, what))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, message: EmailMessage, what: str) -> bool:
        try:
            await asyncio.to_thread(self._deliver, message)
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning(
                "could not mail the %s to %s via %s: %s",
                what,
                message["To"],
                self.settings.host,
                exc,
            )
            return False
        logger.info("mailed the %s to %s", what, message["To"])
        return True

    def _deliver(self, message: EmailMessage) -> None:
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=SEND_TIMEOUT_S) as smtp:
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.user:
                smtp.login(s.user, s.password)
            smtp.send_message(message)

    async def close(self) -> None:
        """Let mails under way finish (bounded by their own timeout)."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
