"""ICE servers for a seated client: STUN, and TURN with ephemeral REST credentials.

coturn's TURN REST scheme (``use-auth-secret`` + ``static-auth-secret``): the
username is ``<unix expiry>:<identity>`` and the password is
base64(HMAC-SHA1(secret, username)).  coturn recomputes the password from the
username and refuses it once the expiry has passed, so the media server never
talks to coturn and a leaked credential dies on its own.  A credential lives as
long as the seat's join token still has to run, and never more than a day.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

#: the longest a TURN credential lives, however long the join token does
MAX_CREDENTIAL_S = 24 * 3600


@dataclass(frozen=True)
class TurnCredential:
    username: str
    password: str
    expires_at: int


def credential(secret: str, identity: str, token_expires_at: int, now: float) -> TurnCredential:
    """A TURN REST credential for ``identity``, valid until the token expires (≤ 24 h)."""
    expires_at = min(int(token_expires_at), int(now) + MAX_CREDENTIAL_S)
    username = f"{expires_at}:{identity}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredential(username, base64.b64encode(digest).decode("ascii"), expires_at)


def _urls(spec: str) -> tuple[str, ...]:
    return tuple(u.strip() for u in spec.split(",") if u.strip())


@dataclass(frozen=True)
class IceServerPolicy:
    """What a seated client is told to use; empty lists when nothing is configured."""

    stun_url: str = ""
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = ""

    def __post_init__(self) -> None:
        for url in self.turn_urls:
            if not url.startswith(("turn:", "turns:")):
                raise ValueError(f"CAUCUS_TURN_URLS: {url!r} is not a turn: or turns: URL")
        if self.stun_url and not self.stun_url.startswith(("stun:", "stuns:")):
            raise ValueError(f"CAUCUS_STUN_URL: {self.stun_url!r} is not a stun: URL")
        if self.turn_urls and not self.turn_secret:
            raise ValueError(
                "CAUCUS_TURN_URLS needs CAUCUS_TURN_SECRET (coturn's static-auth-secret)"
            )

    @classmethod
    def from_settings(cls, stun_url: str, turn_urls: str, turn_secret: str) -> IceServerPolicy:
        return cls(stun_url.strip(), _urls(turn_urls), turn_secret)

    @property
    def turn(self) -> bool:
        return bool(self.turn_secret and self.turn_urls)

    def for_seat(self, identity: str, token_expires_at: int, now: float) -> list[dict[str, Any]]:
        """The RTCConfiguration.iceServers list for one seated identity."""
        servers: list[dict[str, Any]] = []
        if self.stun_url:
            servers.append({"urls": [self.stun_url]})
        if self.turn:
            c = credential(self.turn_secret, identity, token_expires_at, now)
            servers.append(
                {"urls": list(self.turn_urls), "username": c.username, "credential": c.password}
            )
        return servers
