"""Browsers in the tests yield the CPU to the server under test.

In use, each browser runs on its own machine; in the tests four of them share the
server's two cores. Playwright and puppeteer start each browser in a session of its
own, and with ``kernel.sched_autogroup_enabled`` the kernel shares CPU between
sessions before it looks at processes: Firefox and three Chromium pages, each
encoding and decoding video, then took most of the machine, the server answered
ICE consent checks and heartbeats seconds late, and the browsers rebuilt media
connections that were fine. So a browser's session gets the weight of nice
``BROWSER_NICE`` (``/proc/self/autogroup``), and its processes nice
``BROWSER_NICE`` as well, for a kernel without autogroups. Only a test that has
the machine to itself (marked ``quiet``) lowers its browsers: beside another test
process, a lowered browser waits behind that process (a page load took > 10 s).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

BROWSER_NICE = 10
#: lower the priority of the session the launcher gave this shell (the browser's own)
_LOWER_SESSION = f"echo {BROWSER_NICE} > /proc/self/autogroup 2>/dev/null"


def yielding_executable(executable: str) -> str:
    """A script that runs ``executable`` at the browsers' priority with the same arguments,
    for a launcher that starts it in a session of its own (Playwright's
    ``executable_path``, puppeteer's ``executablePath``)."""
    script = _scripts() / Path(executable).name
    if not script.exists():
        script.write_text(
            f'#!/bin/sh\n{_LOWER_SESSION}\nexec nice -n {BROWSER_NICE} {executable} "$@"\n'
        )
        script.chmod(0o755)
    return str(script)


@functools.cache
def _scripts() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="caucus-yielding-"))
    atexit.register(shutil.rmtree, directory, True)
    return directory
