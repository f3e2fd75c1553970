"""Serving beyond loopback: the TLS context, and the warning when browsers will refuse media."""

from __future__ import annotations

import ipaddress
import ssl

from caucus.config import Config


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecure_origin_warning(config: Config) -> str | None:
    """Why browsers elsewhere will get no camera or microphone from this server, if they won't."""
    if config.tls or config.trusted_proxies or is_loopback(config.host):
        return None
    return (
        f"WARNING: serving plain http on {config.host}. Browsers give cameras and microphones"
        " only to https pages (or http://localhost), so participants on other machines will"
        " have no media. Serve HTTPS with --tls-cert/--tls-key (CAUCUS_TLS_CERT/CAUCUS_TLS_KEY),"
        " or put a TLS proxy in front and name it in CAUCUS_TRUSTED_PROXIES (docs/DEPLOY.md)."
    )


def ssl_context(config: Config) -> ssl.SSLContext | None:
    if config.tls_cert is None or config.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise SystemExit(
            f"caucus: cannot load TLS certificate {config.tls_cert} / key {config.tls_key}: {exc}"
        ) from None
    return context
