"""A short bench/soak.py in the suite: rooms of four real aiortc participants come,
record and go against a `caucus serve` subprocess; once every room was released the
server's footprint is what it was after the first room was released.

A leaked peer connection costs megabytes and a descriptor or two, a leaked room a
timer and its state, a leaked task a task: each shows here. (The hour-long run and
its figures: docs/PERFORMANCE.md.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soak import Churn, soak

#: the first room alone, then three more starting 5 s apart, each staying 7 s (so two
#: overlap at a time): ~35 s in all (leaves cut short at every point of a restart are
#: tests/media/test_leave_while_restarting.py's, deterministically)
SLICE = Churn(minutes=0.25, room_every_s=5, stay_s=7, empty_timeout_s=3, fps=5, report_every_s=10)
#: RSS an allocator may keep after a few rooms (a leaked peer connection is ~6 MiB)
RSS_SLACK_MIB = 25.0


@pytest.mark.timeout(240)
async def test_a_short_churn_leaves_the_server_as_the_first_room_did(tmp_path: Path) -> None:
    result = await soak(tmp_path, SLICE, report=lambda line: print(line, flush=True))
    base, end = result.baseline, result.end
    assert result.failures == []
    assert result.rooms >= 4  # the first alone, then three overlapping
    assert end.rooms_live == 0 and end.peer_connections == 0 and end.participants == 0
    assert end.pc_objects <= base.pc_objects, (base, end)
    assert end.tasks <= base.tasks + 2, (base, end)
    assert end.threads <= base.threads + 1, (base, end)
    assert end.fds <= base.fds + 4, (base, end)
    assert end.rss_mib - base.rss_mib <= RSS_SLACK_MIB, (base, end)
