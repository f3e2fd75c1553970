"""Trainee behind a home NAT: Chromium behind a masquerading router reaches the server directly.

    trainee (home)          home router (home)           "Internet" (isp)          server (srv)
    10.72.20.2/24 ---- 10.72.20.1/24 | 198.18.74.2/24 ---- 198.18.74.1/24
                       masquerade out of the WAN           198.18.73.1/24 ---- 198.18.73.10/24
                       (UDP allowed, nothing in unasked)   198.18.75.1/24 ---- 198.18.75.20/24
                                                                               mediator (med)

The Internet knows no route to the home network, so the trainee's host
candidate (10.72.20.2) is useless to the server; the trainee's checks arrive
from the router's address and a port the NAT chose, which no candidate named:
the server learns a peer-reflexive candidate and answers it, and media flows
on that pair.  The mediator is a second Chromium elsewhere on the Internet;
audio and video must flow both ways.  The server logs each selected pair
("media path ROOM/SEAT: ..."); that line is how the test sees the server side.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from tests.e2e.browser import CHROMIUM, open_page, take_seat
from tests.netns import Lab, Namespace, lab_available
from tests.reach.ice_lab import HTTP_PORT, LabServer, direct, expect_media_from, launch_chromium

SERVER, HOME_WAN, TRAINEE, MEDIATOR = "198.18.73.10", "198.18.74.2", "10.72.20.2", "198.18.75.20"
ORIGIN = f"http://{SERVER}:{HTTP_PORT}"


@pytest.fixture
def internet() -> Iterator[tuple[Lab, Namespace, Namespace, Namespace]]:
    """(lab, server, trainee behind the home NAT, mediator) namespaces."""
    reason = lab_available()
    if reason is not None:
        pytest.skip(reason)
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt install chromium)")
    with Lab("ritnat") as lab:
        isp, srv = lab.namespace("isp"), lab.namespace("srv")
        home, trainee, med = lab.namespace("home"), lab.namespace("trn"), lab.namespace("med")
        lab.link(isp, "198.18.73.1/24", srv, f"{SERVER}/24")
        _, wan = lab.link(isp, "198.18.74.1/24", home, f"{HOME_WAN}/24")
        lab.link(isp, "198.18.75.1/24", med, f"{MEDIATOR}/24")
        lab.link(home, "10.72.20.1/24", trainee, f"{TRAINEE}/24")
        srv.route("default", "via", "198.18.73.1")
        med.route("default", "via", "198.18.75.1")
        home.route("default", "via", "198.18.74.1")
        trainee.route("default", "via", "10.72.20.1")
        isp.forwarding()
        home.forwarding()
        home.nft(f"""
            table ip home {{
              chain post {{ type nat hook postrouting priority srcnat;
                oifname "{wan}" masquerade
              }}
              chain forward {{ type filter hook forward priority 0; policy drop;
                ct state established,related accept
                iifname != "{wan}" accept
              }}
            }}""")
        yield lab, srv, trainee, med


async def test_a_trainee_behind_a_home_nat_gets_media_directly_as_a_peer_reflexive_candidate(
    internet: tuple[Lab, Namespace, Namespace, Namespace], tmp_path: Path
) -> None:
    lab, srv, trainee_ns, mediator_ns = internet
    server = LabServer(srv, tmp_path / "data", CAUCUS_ICE_ADDRESSES=SERVER)
    room = await server.simulation()
    await server.start()
    try:
        async with async_playwright() as playwright:
            trainee_browser = await launch_chromium(playwright, trainee_ns, lab.dir, ORIGIN)
            mediator_browser = await launch_chromium(playwright, mediator_ns, lab.dir, ORIGIN)
            try:
                trainee = await open_page(
                    trainee_browser, "party_a", server.link(ORIGIN, room, "party_a")
                )
                mediator = await open_page(
                    mediator_browser, "mediator", server.link(ORIGIN, room, "mediator")
                )
                await take_seat(trainee)
                await take_seat(mediator)
                trainee_path = await expect_media_from(trainee, "mediator")
                mediator_path = await expect_media_from(mediator, "party_a")
            finally:
                await trainee_browser.close()
                await mediator_browser.close()
        print(f"trainee: {trainee_path}\nmediator: {mediator_path}")
        for path in (trainee_path, mediator_path):
            assert direct(path["local"]) and direct(path["remote"]), path
            assert path["remote"]["address"] in (SERVER, ""), path
        assert trainee_path["sent"]["audio"] > 0 and trainee_path["sent"]["video"] > 0
        # the server's side: it answered the trainee at the NAT's public address,
        # which it learnt from the trainee's checks (peer-reflexive)
        logged = server.media_paths(room, "party_a")
        assert logged, server.log()
        assert logged[-1].startswith(f"local host {SERVER}:"), logged
        assert f" <-> remote prflx {HOME_WAN}:" in logged[-1], logged
        # and the mediator, with no NAT on the way, at its own address
        assert f" {MEDIATOR}:" in server.media_paths(room, "mediator")[-1]
    finally:
        server.stop()
