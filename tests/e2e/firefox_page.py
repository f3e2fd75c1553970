"""One Firefox ESR page, driven over WebDriver BiDi by tests/e2e/firefox/driver.mjs.

Playwright cannot drive Debian's Firefox (it needs its own patched build), so a
small Node process runs puppeteer-core and takes JSON commands on stdin. This
wrapper gives it the shape of a Playwright page (`goto`, `evaluate`,
`wait_for_function`, `screenshot`), bounds every call in time, keeps the page's
JavaScript errors and the driver's stderr for failure messages, and always
kills Firefox on close. Should this process die first, the driver sees its
stdin close and shuts Firefox down itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.yielding import yielding_executable

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
FIREFOX = "/usr/bin/firefox-esr"
DRIVER = Path(__file__).resolve().parent / "firefox" / "driver.mjs"
PUPPETEER = ROOT / "node_modules" / "puppeteer-core"
#: Firefox's first start builds a profile; on a loaded 2-core machine that takes a while
LAUNCH_S = 45.0
#: a command's own timeout plus this much for the round trip through Node and BiDi
SLACK_S = 10.0
CLOSE_S = 5.0
STDERR_LINES = 40


class FirefoxError(AssertionError):
    """A command failed in the page or the driver; the message carries the driver's stderr."""


def missing() -> str | None:
    """Why the Firefox tests cannot run here, or None when they can."""
    if not Path(FIREFOX).exists():
        return f"no Firefox ESR at {FIREFOX} (apt install firefox-esr)"
    if shutil.which("node") is None:
        return "no node on PATH (apt install nodejs)"
    if not PUPPETEER.is_dir():
        return f"no {PUPPETEER.relative_to(ROOT)} (npm ci)"
    return None


class FirefoxPage:
    """A Firefox ESR process with one page; use `async with await FirefoxPage.launch(...)`."""

    def __init__(self, seat: str, process: asyncio.subprocess.Process) -> None:
        self.seat = seat
        self.errors: list[str] = []  # console errors and uncaught exceptions
        self.warnings: list[str] = []  # console warnings (media.js reports failed SDP/ICE so)
        self.version = ""
        self._process = process
        self._firefox_pid: int | None = None
        self._profile: str | None = None
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._next_id = 0
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._readers = [
            asyncio.create_task(self._read_stdout()),
            asyncio.create_task(self._read_stderr()),
        ]

    @classmethod
    async def launch(cls, seat: str) -> FirefoxPage:
        node = shutil.which("node") or "node"
        process = await asyncio.create_subprocess_exec(
            node,
            str(DRIVER),
            yielding_executable(FIREFOX),
            cwd=ROOT,  # puppeteer-core resolves from the project's node_modules
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group, killed as a whole on close
        )
        page = cls(seat, process)
        try:
            await asyncio.wait_for(asyncio.shield(page._ready), LAUNCH_S)
        except BaseException as exc:
            await page.close()
            raise FirefoxError(f"Firefox did not start: {exc!r}\n{page.stderr}") from exc
        return page

    @property
    def stderr(self) -> str:
        """The driver's (and Firefox's) last lines on stderr."""
        return "\n".join(self._stderr)

    async def goto(self, url: str, timeout_ms: float = 10_000) -> None:
        await self._call({"op": "goto", "url": url, "timeout": timeout_ms}, timeout_ms)

    async def add_init_script(self, script: str, timeout_ms: float = 10_000) -> None:
        """Run ``script`` in every document before its own scripts (tests' instrumentation)."""
        await self._call({"op": "initScript", "script": script}, timeout_ms)

    async def evaluate(self, script: str, arg: Any = None, timeout_ms: float = 10_000) -> Any:
        """`script` is a function (called with `arg`, awaited if async) or an expression."""
        return await self._call({"op": "evaluate", "script": script, "arg": arg}, timeout_ms)

    async def wait_for_function(
        self, script: str, arg: Any = None, *, polling: int = 100, timeout: float = 10_000
    ) -> Any:
        """Polls `script` until it returns something truthy and returns that (as JSON)."""
        command = {
            "op": "waitForFunction",
            "script": script,
            "arg": arg,
            "polling": polling,
            "timeout": timeout,
        }
        return await self._call(command, timeout)

    async def click(self, selector: str) -> None:
        """A trusted mouse click on the element (the page starts audio only after one)."""
        await self._call({"op": "click", "selector": selector}, 10_000)

    async def screenshot(self, path: Path) -> Path:
        await self._call({"op": "screenshot", "path": str(path)}, 10_000)
        return path

    async def close(self) -> None:
        """Ask the driver to close Firefox; whatever is still running after CLOSE_S is killed."""
        if self._process.returncode is None and self._ready.done():
            with contextlib.suppress(Exception):
                await self._call({"op": "close"}, wait_s=CLOSE_S)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._process.wait(), CLOSE_S)
        # The driver's own group, then Firefox's (puppeteer starts it as a group leader).
        for pid in (self._process.pid, self._firefox_pid):
            if pid is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._process.wait(), CLOSE_S)
        if self._profile and Path(self._profile).name.startswith("puppeteer_"):
            # Left behind when Firefox was killed rather than closed (a clean close removes it).
            shutil.rmtree(self._profile, ignore_errors=True)
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)

    async def __aenter__(self) -> FirefoxPage:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _call(
        self, command: dict[str, Any], timeout_ms: float = 0, *, wait_s: float | None = None
    ) -> Any:
        """Sends `command` and waits for its answer: `wait_s`, else its own timeout + SLACK_S."""
        if self._process.returncode is not None or self._process.stdin is None:
            raise FirefoxError(f"{self.seat}: the Firefox driver has exited\n{self.stderr}")
        self._next_id += 1
        ident = self._next_id
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = answer
        self._process.stdin.write(json.dumps({"id": ident, **command}).encode() + b"\n")
        try:
            await self._process.stdin.drain()
            return await asyncio.wait_for(
                answer, wait_s if wait_s is not None else timeout_ms / 1000 + SLACK_S
            )
        except TimeoutError as exc:
            raise FirefoxError(
                f"{self.seat}: no answer to {command['op']} in time\n{self.stderr}"
            ) from exc
        finally:
            self._waiting.pop(ident, None)

    async def _read_stdout(self) -> None:
        assert self._process.stdout is not None
        while line := await self._process.stdout.readline():
            try:
                message = json.loads(line)
            except ValueError:
                self._stderr.append(f"stdout: {line.decode(errors='replace').rstrip()}")
                continue
            if message.get("event") == "ready":
                self.version = str(message.get("version"))
                self._firefox_pid = message.get("pid")
                self._profile = message.get("profile")
                if not self._ready.done():
                    self._ready.set_result(None)
            elif message.get("event") == "error":
                self.errors.append(str(message.get("text")))
            elif message.get("event") == "warn":
                self.warnings.append(str(message.get("text")))
            elif (answer := self._waiting.get(message.get("id"))) and not answer.done():
                if message.get("ok"):
                    answer.set_result(message.get("value"))
                else:
                    answer.set_exception(
                        FirefoxError(f"{self.seat}: {message.get('error')}\n{self.stderr}")
                    )
        # EOF: the driver is gone; nothing waiting will ever be answered.
        gone = FirefoxError(f"{self.seat}: the Firefox driver exited\n{self.stderr}")
        if not self._ready.done():
            self._ready.set_exception(gone)
        for answer in self._waiting.values():
            if not answer.done():
                answer.set_exception(gone)

    async def _read_stderr(self) -> None:
        assert self._process.stderr is not None
        while line := await self._process.stderr.readline():
            text = line.decode(errors="replace").rstrip()
            self._stderr.append(text)
            logger.debug("firefox %s: %s", self.seat, text)
