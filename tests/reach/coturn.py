"""A real coturn (`turnserver`) for a test, configured by `caucus turn-config`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_S = 15.0


def turnserver_missing() -> str | None:
    return None if shutil.which("turnserver") else "no turnserver (apt install coturn)"


def turn_config(secret: str, *args: str) -> str:
    """The real `caucus turn-config` output for these arguments."""
    result = subprocess.run(
        [sys.executable, "-m", "caucus", "turn-config", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "CAUCUS_TURN_SECRET": secret},
        check=True,
    )
    return result.stdout


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """n ports free for both TCP and UDP on host right now."""
    ports: list[int] = []
    while len(ports) < n:
        with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind((host, 0))
            port = int(tcp.getsockname()[1])
            try:
                udp.bind((host, port))
            except OSError:
                continue
            if port not in ports:
                ports.append(port)
    return ports


def tcp_accepting(host: str, port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            return False

    return check


class Coturn:
    """turnserver -c FILE, its log in the same directory; `prefix` runs it in a namespace."""

    def __init__(self, directory: Path, config_text: str, prefix: Sequence[str] = ()) -> None:
        self.config = directory / "turnserver.conf"
        self.config.write_text(config_text)
        self.log = directory / "turnserver.log"
        self.proc = subprocess.Popen(
            [
                *prefix,
                "turnserver",
                "-c",
                str(self.config),
                "--log-file",
                "stdout",
                "--pidfile",
                str(directory / "turnserver.pid"),
                "--userdb",
                str(directory / "turndb"),
            ],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, accepting: Callable[[], bool]) -> None:
        """Poll until ``accepting()`` (e.g. its TCP port takes a connection)."""
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"turnserver exited {self.proc.returncode}:\n{self.text()}")
            if accepting():
                return
            time.sleep(0.05)  # polling a starting process
        raise RuntimeError(f"turnserver did not start:\n{self.text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
