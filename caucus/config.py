"""Configuration: embedded defaults, overridden by CAUCUS_* environment variables and flags."""

from __future__ import annotations

import math
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from storage.database import default_url


def _read_or_create_secret(path: Path, nbytes: int) -> str:
    """A secret kept in the data directory so tokens and links survive restarts."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    #: base of the links printed and issued; defaults to http://host:port
    public_url: str | None = None
    #: seconds a dropped participant's seat is held for them
    grace_s: float = 60.0
    #: engine.io heartbeat; generous so a 500 ms RTT link never looks dead
    ping_interval_s: float = 25.0
    ping_timeout_s: float = 30.0
    #: redis://… to fan Socket.IO messages out across processes; None runs in one process
    redis_url: str | None = None
    #: run the media server (False: signalling, rooms and recordings API only)
    media: bool = True
    #: seconds a seat's media connection may take from its offer to connected (ICE and
    #: DTLS) before it is closed and its ports freed
    media_connect_timeout_s: float = 30.0
    #: comma-separated interface addresses for ICE host candidates; "" = all but loopback
    ice_addresses: str = ""
    #: the IP or hostname ICE candidates advertise (a 1:1 NAT's public side); "" = none
    announced_address: str = ""
    #: LOW-HIGH: every media (ICE) UDP socket binds in this range; "" = any port
    udp_ports: str = ""
    #: stun:host:port handed to seated clients (and usable for address discovery)
    stun_url: str = ""
    #: PEM certificate chain and key: serve HTTPS and WSS directly (both or neither)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-* headers are believed
    trusted_proxies: str = ""
    #: coturn's static-auth-secret; unset = no TURN (TURN REST credentials, signaling/turn.py)
    turn_secret: str = field(default="", repr=False)
    #: comma-separated turn:/turns: URLs handed to seated clients with their credentials
    turn_urls: str = ""
    #: comma-separated extra browser origins allowed to open a socket (besides this server's)
    allowed_origins: str = ""
    #: seconds from SIGTERM/SIGINT to exit: joins refused, clients told, recordings finished
    drain_s: float = 10.0
    #: seconds a room may stay with nobody connected before it ends itself ("abandoned")
    empty_timeout_s: float = 900.0
    #: seconds after a recording fault before recording is tried again (if space is back)
    recording_retry_s: float = 30.0
    #: SQLAlchemy URL of the database; "" = SQLite in the data directory
    #: (postgresql+asyncpg://user:pass@host/db for PostgreSQL)
    database_url: str = field(default="", repr=False)
    #: recordings (and their feedback) older than this many days are deleted; 0 = keep forever
    retention_days: int = 0
    # --- outgoing mail for invitation links; no host = none (the console shows each link)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    #: the From address; "" = the user if it is an address, else caucus@<host>
    smtp_from: str = ""
    #: STARTTLS before logging in and sending (turn off only for a relay on loopback)
    smtp_starttls: bool = True
    #: bearer token a Prometheus scraper shows for /metrics; "" (and no address) = no metrics
    metrics_token: str = field(default="", repr=False)
    #: host:port of a listener serving /metrics alone (then the main port answers 404)
    metrics_address: str = ""
    #: worker processes of `caucus serve` (caucus/workers.py); 0 = one per core, 1 = one process
    workers: int = 0
    #: this process's name as one worker of `caucus serve --workers N` ("" = on its own);
    #: its supervisor runs the crash recovery, for all workers at once
    node: str = ""
    secret: str = field(default="", repr=False)
    admin_token: str = field(default="", repr=False)

    @property
    def database(self) -> str:
        return self.database_url or default_url(self.data_dir)

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both a certificate and a key (--tls-cert, --tls-key)")
        if self.retention_days < 0:
            raise ValueError("CAUCUS_RETENTION_DAYS must be 0 (keep forever) or a number of days")
        if not 0 < self.media_connect_timeout_s < math.inf:  # nan and inf fail too
            raise ValueError("CAUCUS_MEDIA_CONNECT_TIMEOUT_S must be seconds, finite and > 0")
        if self.workers < 0:
            raise ValueError("CAUCUS_WORKERS must be 0 (one per core) or a number of processes")

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return (self.public_url or f"{scheme}://{self.host}:{self.port}").rstrip("/")

    def with_secrets(self) -> Config:
        """Fill in the signing secret and admin token from the data directory if unset."""
        return replace(
            self,
            secret=self.secret or _read_or_create_secret(self.data_dir / "secret.key", 32),
            admin_token=self.admin_token
            or _read_or_create_secret(self.data_dir / "admin.token", 24),
        )

    @classmethod
    def from_env(
        cls, env: dict[str, str] | None = None, *, load_secrets: bool = True, **overrides: Any
    ) -> Config:
        """The configuration; ``load_secrets=False`` leaves the data directory untouched."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        casts: dict[str, Any] = {
            "host": str,
            "port": int,
            "data_dir": Path,
            "public_url": str,
            "grace_s": float,
            "ping_interval_s": float,
            "ping_timeout_s": float,
            "redis_url": str,
            "media": lambda v: v.lower() not in ("0", "false", "no", "off"),
            "media_connect_timeout_s": float,
            "ice_addresses": str,
            "announced_address": str,
            "udp_ports": str,
            "stun_url": str,
            "tls_cert": Path,
            "tls_key": Path,
            "trusted_proxies": str,
            "turn_secret": str,
            "turn_urls": str,
            "allowed_origins": str,
            "drain_s": float,
            "empty_timeout_s": float,
            "recording_retry_s": float,
            "database_url": str,
            "retention_days": int,
            "smtp_host": str,
            "smtp_port": int,
            "smtp_user": str,
            "smtp_password": str,
            "smtp_from": str,
            "smtp_starttls": lambda v: v.lower() not in ("0", "false", "no", "off"),
            "metrics_token": str,
            "metrics_address": str,
            "workers": int,
            "secret": str,
            "admin_token": str,
        }
        for name, cast in casts.items():
            raw = env.get(f"CAUCUS_{name.upper()}")
            if raw:
                try:
                    values[name] = cast(raw)
                except ValueError:
                    bad = f"CAUCUS_{name.upper()}={raw!r}"
                    raise ValueError(f"{bad} is not a valid value") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        config = cls(**values)
        return config.with_secrets() if load_secrets else config
