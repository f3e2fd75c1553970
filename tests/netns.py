"""Network namespaces for the reach tests: firewalls, NAT and outages built per test.

A :class:`Lab` owns every namespace and veth pair it creates and removes them all
on exit, even when the test failed half-way.  Addresses live only inside the
namespaces a lab made (the root namespace gets none), so a test never sends a
packet anywhere but its own little network::

    with Lab("rt10a") as lab:                         # names are prefixed: unique per test
        server = lab.namespace("server")
        trainee = lab.namespace("trainee")
        lab.link(server, "10.77.0.1/24", trainee, "10.77.0.2/24")
        trainee.nft('''
            table inet strict { chain out { type filter hook output priority 0; policy drop;
              oif "lo" accept; tcp dport 443 accept; } }''')
        proc = server.popen(["turnserver", ...])
        browser_path = trainee.wrap("/usr/bin/chromium", lab.dir)   # for Playwright

Needs root, ``ip`` (iproute2) and ``nft`` (nftables); :func:`lab_available` says
whether this machine can build one, so a test can skip with the reason instead
of failing obscurely.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

_counter = itertools.count()


def lab_available() -> str | None:
    """None if namespaces can be built here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"no {tool} (apt install {'iproute2' if tool == 'ip' else 'nftables'})"
    return None


def _run(cmd: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


class Namespace:
    """One network namespace: run commands in it, give it addresses, routes and rules."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.addresses: list[str] = []

    @property
    def prefix(self) -> list[str]:
        """Prepend to a command line to run it inside this namespace."""
        return ["ip", "netns", "exec", self.name]

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run([*self.prefix, *cmd], check=check)

    def popen(self, cmd: Sequence[str], **kwargs: object) -> subprocess.Popen[bytes]:
        """Start a long-running process in the namespace (the caller stops it)."""
        return subprocess.Popen([*self.prefix, *cmd], **kwargs)  # type: ignore[call-overload, no-any-return]

    def route(self, *spec: str) -> None:
        """e.g. ``ns.route("default", "via", "10.77.0.1")``."""
        self.run("ip", "route", "replace", *spec)

    def forwarding(self, on: bool = True) -> None:
        self.run("sysctl", "-q", "-w", f"net.ipv4.ip_forward={1 if on else 0}")

    def nft(self, ruleset: str) -> None:
        """Load an nftables ruleset (``nft -f -``) into this namespace."""
        result = subprocess.run(
            [*self.prefix, "nft", "-f", "-"],
            input=ruleset,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise RuntimeError(f"nft in {self.name} failed: {result.stderr.strip()}\n{ruleset}")

    def flush_nft(self) -> None:
        self.run("nft", "flush", "ruleset")

    def set_link(self, device: str, up: bool) -> None:
        """Take an interface down (an outage) or bring it back."""
        self.run("ip", "link", "set", device, "up" if up else "down")

    def readdress(self, device: str, old: str, new: str) -> None:
        """Swap an interface's address (a trainee's network changes mid-session)."""
        self.run("ip", "addr", "del", old, "dev", device)
        self.run("ip", "addr", "add", new, "dev", device)
        self.addresses = [new if a == old else a for a in self.addresses]

    def wrap(self, executable: str, directory: Path) -> str:
        """A script that runs ``executable`` inside this namespace, with the same arguments.

        Playwright and puppeteer talk to the browser over a pipe (or a port inside
        the namespace), so pointing ``executable_path`` at this script is enough to
        put a whole browser behind this namespace's network.
        """
        script = directory / f"{self.name}-{Path(executable).name}"
        script.write_text(f'#!/bin/sh\nexec ip netns exec {self.name} {executable} "$@"\n')
        script.chmod(0o755)
        return str(script)


class Lab:
    """Namespaces and veth pairs made for one test, all removed by ``close()``."""

    def __init__(self, tag: str) -> None:
        # short names: interface names are limited to 15 characters
        self.tag = f"{tag[:6]}{os.getpid() % 1000}{next(_counter)}"
        self.namespaces: list[Namespace] = []
        self._links = itertools.count()
        self.dir = Path(tempfile.mkdtemp(prefix=f"lab-{self.tag}-"))

    def namespace(self, role: str) -> Namespace:
        ns = Namespace(f"{self.tag}-{role}")
        _run(["ip", "netns", "add", ns.name])
        self.namespaces.append(ns)
        # The labs are IPv4 only.  With IPv6 on, each veth's link-local address
        # finishes duplicate-address detection a second or two after the link
        # comes up; a browser already running in the namespace sees that as its
        # network changing and aborts its loads (ERR_NETWORK_CHANGED).
        for scope in ("all", "default"):
            ns.run("sysctl", "-q", "-w", f"net.ipv6.conf.{scope}.disable_ipv6=1")
        ns.run("ip", "link", "set", "lo", "up")
        return ns

    def link(self, a: Namespace, a_address: str, b: Namespace, b_address: str) -> tuple[str, str]:
        """A veth pair between two namespaces, each end addressed (CIDR) and up.

        Returns the interface names (in ``a``, in ``b``).
        """
        n = next(self._links)
        a_dev, b_dev = f"v{self.tag}a{n}"[:15], f"v{self.tag}b{n}"[:15]
        _run(
            [
                "ip",
                "link",
                "add",
                a_dev,
                "netns",
                a.name,
                "type",
                "veth",
                "peer",
                "name",
                b_dev,
                "netns",
                b.name,
            ]
        )
        for ns, dev, address in ((a, a_dev, a_address), (b, b_dev, b_address)):
            ns.run("ip", "addr", "add", address, "dev", dev)
            ns.run("ip", "link", "set", dev, "up")
            ns.addresses.append(address)
        return a_dev, b_dev

    def close(self) -> None:
        for ns in reversed(self.namespaces):
            # end whatever still runs inside (browsers, servers) before the namespace goes
            pids = _run(["ip", "netns", "pids", ns.name], check=False).stdout.split()
            for pid in pids:
                _run(["kill", "-9", pid], check=False)
            _run(["ip", "netns", "delete", ns.name], check=False)
        self.namespaces.clear()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Lab:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
