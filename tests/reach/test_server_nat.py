"""Server behind a 1:1 NAT (a cloud VM): it binds a private address and announces the public one.

    browsers (net)              router (rtr)                       server (srv)
    198.18.72.20/24  ----  198.18.72.1/24, 198.18.72.10  ----  10.72.1.1/24 --- 10.72.1.2/24
                           DNAT 198.18.72.10 -> 10.72.1.2, SNAT back; forwards only
                           tcp 8080 and udp 40000-40099 (the firewall CAUCUS_UDP_PORTS allows)

The browsers' namespace has no route to 10.72.0.0/16, like the Internet: the
only way in is the public address; and a stateful firewall in front of the
browsers (as almost every browser has) drops what they did not ask for, so
the server cannot open the path by checking the browsers' own addresses.
`caucus serve` runs inside srv with CAUCUS_ICE_ADDRESSES=10.72.1.2,
CAUCUS_ANNOUNCED_ADDRESS=198.18.72.10 and CAUCUS_UDP_PORTS=40000-40099; two
Chromium pages (mediator and party A, one browser in net) join over http on
the public address and must get each other's audio and video on a direct pair
whose remote end is the announced address.  A second test asks a STUN server
(coturn, in net) instead of naming the address.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from tests.e2e.browser import CHROMIUM, open_page, take_seat
from tests.netns import Lab, Namespace, lab_available
from tests.reach.ice_lab import (
    HTTP_PORT,
    LabServer,
    direct,
    expect_media_from,
    launch_chromium,
    stun_server,
)

PRIVATE, PUBLIC, BROWSERS = "10.72.1.2", "198.18.72.10", "198.18.72.20"
PORTS = (40000, 40099)
ORIGIN = f"http://{PUBLIC}:{HTTP_PORT}"


@pytest.fixture
def nat() -> Iterator[tuple[Lab, Namespace, Namespace]]:
    """(lab, server namespace, browsers' namespace) with the 1:1 NAT between them."""
    reason = lab_available()
    if reason is not None:
        pytest.skip(reason)
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt install chromium)")
    with Lab("risnat") as lab:
        srv, rtr, net = lab.namespace("srv"), lab.namespace("rtr"), lab.namespace("net")
        lab.link(srv, f"{PRIVATE}/24", rtr, "10.72.1.1/24")
        _, public_dev = lab.link(net, f"{BROWSERS}/24", rtr, "198.18.72.1/24")
        rtr.run("ip", "addr", "add", f"{PUBLIC}/24", "dev", public_dev)
        srv.route("default", "via", "10.72.1.1")
        rtr.forwarding()
        low, high = PORTS
        rtr.nft(f"""
            table ip nat {{
              chain pre {{ type nat hook prerouting priority dstnat;
                ip daddr {PUBLIC} dnat to {PRIVATE}
              }}
              chain post {{ type nat hook postrouting priority srcnat;
                ip saddr {PRIVATE} snat to {PUBLIC}
              }}
            }}
            table ip firewall {{
              chain forward {{ type filter hook forward priority 0; policy drop;
                ct state established,related accept
                ip saddr {PRIVATE} accept
                ip daddr {PRIVATE} ct status dnat tcp dport {HTTP_PORT} accept
                ip daddr {PRIVATE} ct status dnat udp dport {low}-{high} accept
              }}
            }}""")
        # Browsers sit behind a stateful firewall, as nearly all do: nothing comes in
        # unasked, so the server cannot open the path itself by checking the
        # browser's address; the browser must send to the announced one first.
        # (Port 3478 is the STUN server of the discovery test, also out here.)
        net.nft("""
            table inet browsers {
              chain input { type filter hook input priority 0; policy drop;
                iif "lo" accept
                ct state established,related accept
                udp dport 3478 accept
              }
            }""")
        yield lab, srv, net


async def test_browsers_get_media_on_a_direct_pair_to_the_announced_address(
    nat: tuple[Lab, Namespace, Namespace], tmp_path: Path
) -> None:
    lab, srv, net = nat
    server = LabServer(
        srv,
        tmp_path / "data",
        CAUCUS_ICE_ADDRESSES=PRIVATE,
        CAUCUS_ANNOUNCED_ADDRESS=PUBLIC,
        CAUCUS_UDP_PORTS=f"{PORTS[0]}-{PORTS[1]}",
    )
    room = await server.simulation()
    await server.start()
    try:
        async with async_playwright() as playwright:
            browser = await launch_chromium(playwright, net, lab.dir, ORIGIN)
            try:
                pages = {
                    seat: await open_page(browser, seat, server.link(ORIGIN, room, seat))
                    for seat in ("mediator", "party_a")
                }
                await asyncio.gather(*(take_seat(p) for p in pages.values()))
                paths = {
                    "mediator": await expect_media_from(pages["mediator"], "party_a"),
                    "party_a": await expect_media_from(pages["party_a"], "mediator"),
                }
            finally:
                await browser.close()
        for seat, path in paths.items():
            print(f"{seat}: {path}")
            local, remote = path["local"], path["remote"]
            assert direct(local) and direct(remote), (seat, path)
            assert local["address"] == BROWSERS, (seat, path)
            # the browser reached the server at the announced address, on a port
            # inside the range: DNAT took it to the private socket
            assert remote["address"] == PUBLIC, (seat, path)
            assert PORTS[0] <= remote["port"] <= PORTS[1], (seat, path)
            assert path["sent"]["audio"] > 0 and path["sent"]["video"] > 0, (seat, path)
            logged = server.media_paths(room, seat)
            # the server, for its part, saw the browser's own address (no NAT on that side)
            assert logged and logged[-1].startswith(f"local host {PRIVATE}:"), logged
            assert f" {BROWSERS}:" in logged[-1], logged
    finally:
        server.stop()


async def test_the_public_address_is_discovered_through_stun(
    nat: tuple[Lab, Namespace, Namespace], tmp_path: Path
) -> None:
    """No CAUCUS_ANNOUNCED_ADDRESS: the server asks a STUN server beyond the NAT at start."""
    lab, srv, net = nat
    async with stun_server(net, BROWSERS, lab.dir) as url:
        server = LabServer(
            srv, tmp_path / "data", CAUCUS_ICE_ADDRESSES=PRIVATE, CAUCUS_STUN_URL=url
        )
        try:
            await server.start()
        finally:
            server.stop()
    assert f"announced address {PUBLIC} (discovered through {url})" in server.log(), server.log()
