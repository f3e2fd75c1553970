"""How an SFU is set up: its reach (addresses, ports, announced IP) and its timeouts.

:class:`SfuConfig` is checked when it is made, so a bad address or port range
fails at start-up, and it says which gather policy the SFU's connections use.
:mod:`media.sfu` re-exports it (``from media.sfu import Sfu, SfuConfig``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from media import aiortc_internals
from media.announce import check_announced_ip, check_port_range


@dataclass(frozen=True)
class SfuConfig:
    ice_host_addresses: Sequence[str] | None = None
    """Interfaces to gather host candidates on; None: every interface but loopback."""
    connect_timeout: float = 30.0
    """A participant not connected this long after its first offer is released."""
    rtp_history_size: int = aiortc_internals.RTP_HISTORY_SIZE
    announced_address: str | None = None
    """An IP offered beside each host candidate (a 1:1 NAT's public side); None: none."""
    udp_ports: tuple[int, int] | None = None
    """Inclusive range every ICE socket binds in; None: any port."""

    def __post_init__(self) -> None:
        if self.connect_timeout <= 0:
            raise ValueError("connect_timeout must be positive")
        if self.announced_address is not None:
            check_announced_ip(self.announced_address)
        if self.udp_ports is not None:
            check_port_range(self.udp_ports)
        self.gather_policy  # noqa: B018 - a host address that is not an IP fails here

    @property
    def gather_policy(self) -> aiortc_internals.GatherPolicy | None:
        """How this SFU's connections gather (None: as aioice does on its own)."""
        hosts = self.ice_host_addresses
        if self.announced_address is None and self.udp_ports is None and hosts is None:
            return None
        return aiortc_internals.GatherPolicy(
            self.announced_address, self.udp_ports, None if hosts is None else tuple(hosts)
        )
