"""The uplink estimate in C (``_uplink.c``) against ``remb.UplinkEstimator``, packet
for packet: the same REMB (or None) after every packet, the same error where the Python
raises, the same incoming bitrate when asked, and the same state (every float of the
filter, detector and rate controller, bit for bit; the groups, window and SSRCs).

The packets are generated as a path would deliver them from a video sender: frames
split into packets (0..1500 bytes, several SSRCs), arrival times with jitter, some
reordered, duplicated or stamped at the same millisecond, bursts sent at once, pauses
of more than a second, the arrival clock jumping back, the send clock wrapping around
(abs-send-time counts 64 s) or jumping, a bottleneck link whose queue builds and then
drains, and sudden delay spikes: so that the detector sees over-use and under-use and
the rate controller holds, increases and decreases.  The run checks that it did.  A
second generator feeds values no path would (huge and negative sizes, far-off times,
any int as abs-send-time) to hold the C's 64-bit arithmetic to Python's ints.
``CAUCUS_FUZZ_SCALE`` multiplies the cases.
"""

from __future__ import annotations

import math
import os
import random
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiortc import RTCRtpReceiver
from aiortc.rate import BandwidthUsage, RateControlState
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from media.aiortc_internals import native_uplink, receivers
from media.aiortc_internals.remb import UplinkEstimator

try:
    from media.aiortc_internals import _uplink
except ImportError:  # not built
    _uplink = None  # type: ignore[assignment]

SCALE = int(os.environ.get("CAUCUS_FUZZ_SCALE", "1"))
Packet = tuple[int, int, int, int]  # arrival ms, abs-send-time, payload size, SSRC
SSRCS = (0x1234, 0x5678, 0xFFFFFFFF, 7)
#: the scalar floats of a snapshot: compared for the sign of zero too
FLOATS = (
    "filter.offset",
    "filter.previous_offset",
    "filter.slope",
    "filter.avg_noise",
    "filter.var_noise",
    "detector.overuse_time",
    "detector.previous_offset",
    "detector.threshold",
    "rate_control.avg_max_bitrate_kbps",
    "rate_control.var_max_bitrate_kbps",
)


def native_type() -> Any:
    """The C estimator's type; the test is skipped where it was not built, unless
    ``CAUCUS_UPLINK_ESTIMATE=native`` asks for it."""
    if _uplink is None:
        if os.environ.get("CAUCUS_UPLINK_ESTIMATE", "").strip().lower() == "native":
            pytest.fail("CAUCUS_UPLINK_ESTIMATE=native, but _uplink.c was not built")
        pytest.skip("media/aiortc_internals/_uplink.c was not built (scripts/setup.sh builds it)")
    return _uplink.UplinkEstimator


def python_snapshot(estimator: UplinkEstimator) -> dict[str, Any]:
    """The Python estimator's state, as the C's ``snapshot()`` gives its own."""
    f, d, r = estimator.filter, estimator.detector, estimator.rate_control
    return {
        "ssrcs": list(estimator._ssrcs),
        "first": estimator._first,
        "last": estimator._last,
        "arrival": estimator._arrival,
        "size": estimator._size,
        "previous": estimator._previous,
        "window": list(estimator._window),
        "window_bytes": estimator._window_bytes,
        "counting_since": estimator._counting_since,
        "last_update_ms": estimator._last_update_ms,
        "filter.E": tuple(tuple(row) for row in f.E),
        "filter.num_of_deltas": f._num_of_deltas,
        "filter.offset": f._offset,
        "filter.previous_offset": f.previous_offset,
        "filter.slope": f.slope,
        "filter.avg_noise": f.avg_noise,
        "filter.var_noise": f.var_noise,
        "filter.recent": list(f._recent),
        "detector.hypothesis": d.hypothesis,
        "detector.last_update_ms": d.last_update_ms,
        "detector.overuse_counter": d.overuse_counter,
        "detector.overuse_time": d.overuse_time,
        "detector.previous_offset": d.previous_offset,
        "detector.threshold": d.threshold,
        "rate_control.avg_max_bitrate_kbps": r.avg_max_bitrate_kbps,
        "rate_control.var_max_bitrate_kbps": r.var_max_bitrate_kbps,
        "rate_control.current_bitrate": r.current_bitrate,
        "rate_control.current_bitrate_initialized": r.current_bitrate_initialized,
        "rate_control.first_estimated_throughput_time": r.first_estimated_throughput_time,
        "rate_control.last_change_ms": r.last_change_ms,
        "rate_control.near_max": r.near_max,
        "rate_control.latest_estimated_throughput": r.latest_estimated_throughput,
        "rate_control.state": r.state,
    }


def exact(value: Any) -> Any:
    """``value`` with each float as its bits (any NaN as one), for an exact comparison."""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else value.hex()
    if isinstance(value, (list, tuple)):
        return [exact(item) for item in value]
    if isinstance(value, dict):
        return {key: exact(item) for key, item in value.items()}
    return value


def assert_same_state(python: dict[str, Any], native: dict[str, Any], where: str) -> None:
    # Python keeps a few floats as ints (a threshold of 6, a noise variance of 1,
    # an over-use time of 0): the same values; float() makes them comparable as bits
    for key in FLOATS:
        if isinstance(python[key], int):
            python[key] = float(python[key])
    if python == native and all(
        python[key] is None or math.copysign(1, python[key]) == math.copysign(1, native[key])
        for key in FLOATS
    ):
        return
    python_bits, native_bits = exact(python), exact(native)
    differing = {k: (python[k], native[k]) for k in python if python_bits[k] != native_bits[k]}
    assert not differing, f"{where}: state differs (python, native): {differing}"


def outcome(call: Callable[..., Any], *args: Any) -> Any:
    """What a call gave: its value, or the error it raised."""
    try:
        return ("value", call(*args))
    except Exception as error:  # the same error, where the Python raises one
        return ("raised", type(error).__name__, str(error))


@dataclass
class Seen:
    """What the runs reached: each must be reached at least once."""

    hypotheses: set[BandwidthUsage] = field(default_factory=set)
    states: set[RateControlState] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)


def compare(packets: Iterable[Packet], seen: Seen, every: int = 1) -> None:
    """Feed ``packets`` to both estimators; assert after each that they agree."""
    python, native = UplinkEstimator(), native_type()()
    asks = random.Random(0)
    previous_send = None
    for n, packet in enumerate(packets):
        where = f"packet {n} {packet}"
        got = outcome(python.add, *packet)
        assert outcome(native.add, *packet) == got, where
        if n % every == 0:
            assert_same_state(python_snapshot(python), native.snapshot(), where)
        if n % 97 == 0:  # the incoming bitrate asked at other times (this prunes the window)
            now = packet[0] + asks.choice((0, 1, 500, 999, 1000, 1001, 2500, -5))
            assert outcome(native.incoming_bitrate, now) == outcome(python.incoming_bitrate, now), (
                f"{where}: incoming_bitrate({now})"
            )
        hypothesis = native.hypothesis
        seen.hypotheses.add(hypothesis)
        seen.states.add(native.rate_control_state)
        if got[0] == "raised":
            seen.paths.add(f"raises {got[1]}")
        elif got[1] is not None:
            if hypothesis is BandwidthUsage.OVERUSING:
                # DECREASE lasts only within AimdRateControl.update (it ends in HOLD):
                # a REMB under over-use is the decrease
                seen.states.add(RateControlState.DECREASE)
            elif native.rate_control_state is RateControlState.INCREASE:
                near_max = python.rate_control.near_max
                seen.paths.add("additive increase" if near_max else "multiplicative increase")
        if len(python._window) > 64:
            seen.paths.add("window ring grown")
        send = packet[1] & 0xFFFFFF
        if previous_send is not None and 0 < (previous_send - send) & 0xFFFFFF < 0x800000:
            seen.paths.add("sent earlier")
        elif previous_send is not None and send < previous_send:
            seen.paths.add("abs-send-time wrapped")
        previous_send = send
    assert_same_state(python_snapshot(python), native.snapshot(), "at the end")


# --- packets as a path delivers them ---------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A stretch of a trace: what the sender sends and what the path does to it."""

    kind: str  # steady, pause, backwards, send_jump, burst, stall
    seconds: float
    kbps: int
    fps: int
    link: float  # the link's rate, as a share of the send rate (< 1: a bottleneck)
    spike_ms: int  # delay added on the path for the whole stretch
    jitter_ms: float
    reorder: float  # chance a packet's send time swaps with the next's
    duplicate: float
    zero_sizes: bool
    ssrcs: int  # how many SSRCs send (media, RTX, ...)


def trace(seed: int, segments: Sequence[Segment], limit: int = 8000) -> list[Packet]:
    """The packets a server receives over ``segments``, in the order it reads them."""
    rng = random.Random(seed)
    send = rng.uniform(0, 64)  # s on the sender's clock: abs-send-time wraps every 64 s
    origin = rng.choice((0, 3_900_000_000_000, rng.randrange(-(2**40), 2**40)))  # ms
    link_free = 0.0  # when the link is done with the packets before (s)
    out: list[Packet] = []
    for segment in segments:
        if segment.kind == "pause":
            send += segment.seconds
            continue
        if segment.kind == "backwards":
            origin -= rng.choice((1, 20, 999, 1000, 1001, 4000, 20000))
        if segment.kind == "send_jump":
            send += rng.choice((rng.uniform(-5, 64), 32.0, 31.999, -0.004, 0.0))
        rate = segment.kbps * 1000
        batch: list[list[int]] = []
        frames = max(1, int(segment.seconds * segment.fps))
        for frame in range(frames):
            at = send + frame / segment.fps
            size = rate / 8 / segment.fps * rng.uniform(0.4, 1.6)
            count = max(1, math.ceil(size / 1200))
            spacing = 0.0002
            if segment.kind == "burst" and rng.random() < 0.5:
                count, spacing = count * rng.randint(1, 8), rng.choice((0.0, 0.00001))
            for i in range(count):
                sent = at + i * spacing
                payload = min(1500, max(0, int(size / count) + rng.randint(-50, 50)))
                if segment.zero_sizes:
                    payload = 0
                link_free = max(sent, link_free) + payload * 8 / (rate * segment.link)
                arrival = (
                    link_free
                    + 0.02
                    + segment.spike_ms / 1000
                    + rng.uniform(0, segment.jitter_ms) / 1000
                )
                ssrc = SSRCS[0] if rng.random() < 0.9 else rng.choice(SSRCS[: segment.ssrcs])
                batch.append([int(arrival * 1000), int(sent * (1 << 18)) & 0xFFFFFF, payload, ssrc])
        send += frames / segment.fps
        batch.sort(key=lambda packet: packet[0])  # the server sees them in arrival order
        if segment.kind == "stall":  # an event loop blocked: many read in the same ms
            for packet in batch[len(batch) // 3 :]:
                packet[0] = batch[len(batch) // 3][0]
        for i in range(len(batch) - 1):
            if rng.random() < segment.reorder:  # a later one sent overtakes an earlier one
                batch[i][1:3], batch[i + 1][1:3] = batch[i + 1][1:3], batch[i][1:3]
            if rng.random() < segment.reorder / 4:
                batch[i][0] -= rng.randint(1, 3)  # the arrival clock a little behind
        for packet in batch:
            out.append((origin + packet[0], packet[1], packet[2], packet[3]))
            if rng.random() < segment.duplicate:
                out.append(out[-1])
    return out[:limit]


KINDS = ("steady", "steady", "steady", "pause", "backwards", "send_jump", "burst", "stall")
segments = st.builds(
    Segment,
    kind=st.sampled_from(KINDS),
    seconds=st.floats(0.2, 8),
    kbps=st.integers(20, 2500),
    fps=st.sampled_from((5, 15, 30, 30, 60)),
    link=st.sampled_from((0.3, 0.6, 0.9, 1.2, 3.0, 10.0)) | st.floats(0.2, 20),
    spike_ms=st.sampled_from((0, 0, 0, 50, 300, 1500)),
    jitter_ms=st.sampled_from((0.0, 2.0, 10.0, 40.0)),
    reorder=st.sampled_from((0.0, 0.0, 0.01, 0.1)),
    duplicate=st.sampled_from((0.0, 0.0, 0.01, 0.1)),
    zero_sizes=st.sampled_from((False, False, False, True)),
    ssrcs=st.integers(1, 4),
)


def stretch(kind: str, seconds: float, kbps: int = 800, link: float = 5.0, **rest: Any) -> Segment:
    fields: dict[str, Any] = dict(fps=30, spike_ms=0, jitter_ms=2.0, reorder=0.0, duplicate=0.0)
    fields.update(zero_sizes=False, ssrcs=2)
    fields.update(rest)
    return Segment(kind, seconds, kbps, link=link, **fields)


#: a path that does everything once: a bottleneck (over-use, then under-use as its
#: queue drains), a delay spike, a pause, clocks jumping, bursts, a stall
TOUR = [
    stretch("steady", 5),
    stretch("steady", 2, link=0.4),
    stretch("steady", 8, kbps=300, link=4.0),
    stretch("steady", 4, link=1.3),
    stretch("steady", 2, spike_ms=300),
    stretch("steady", 3, reorder=0.1, duplicate=0.1, jitter_ms=20.0),
    stretch("pause", 1.5),
    stretch("steady", 3, kbps=300),
    stretch("backwards", 2),
    stretch("send_jump", 2, ssrcs=4),
    stretch("burst", 2, link=0.8),
    stretch("stall", 1),
    stretch("steady", 4, link=0.5),
    stretch("steady", 4, link=2.0, kbps=1500),
]


def shaped(steps: Sequence[tuple[float, int, float]]) -> list[Packet]:
    """A packet every 20 ms: ``(seconds, size, ms more delay per packet)`` a stretch."""
    out, send, delay = [], 0.0, 20.0
    for seconds, size, slope in steps:
        for _ in range(int(seconds * 50)):
            delay += slope
            out.append((10_000 + int(send * 1000 + delay), int(send * (1 << 18)), size, 1))
            send += 0.02
    return out


#: a publisher at ~10 kbit/s, congested again and again while its rate falls (the
#: controller's estimate of its maximum stays put, its variance grows), then sending
#: empty packets while congested: the REMB falls to 0, where aiortc's near-max
#: increase divides by zero on every packet; both estimators climb back from it
STARVED = [
    (4, 30, 0), (0.46, 21, 4.4), (0.74, 21, 0), (0.58, 16, 5.0), (2, 16, 0), (0.7, 12, 2.0),
    (0.84, 12, 0), (0.34, 11, 3.8), (0.94, 11, 0), (0.7, 13, 4.6), (0.82, 13, 0), (0.42, 9, 6.0),
    (1.38, 9, 0), (0.4, 7, 1.6), (1.74, 7, 0), (0.32, 8, 3.6), (1.62, 8, 0), (0.54, 6, 2.3),
    (1.46, 6, 0), (1.2, 0, 0), (0.8, 0, 5.0), (2, 0, 0), (2, 400, 0),
]  # fmt: skip


def test_the_c_estimates_as_the_python_does_packet_for_packet() -> None:
    native_type()
    seen = Seen()

    @settings(
        max_examples=80 * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(seed=st.integers(0, 2**32), path=st.lists(segments, min_size=2, max_size=12))
    @example(seed=2, path=TOUR)  # (seed 2: abs-send-time wraps 3 s in)
    @example(seed=5, path=TOUR[::-1])
    def check(seed: int, path: list[Segment]) -> None:
        compare(trace(seed, path), seen)

    check()
    compare(shaped(STARVED), seen)
    assert seen.hypotheses == set(BandwidthUsage), seen
    assert seen.states == set(RateControlState), seen
    for path in (
        "additive increase",
        "multiplicative increase",
        "window ring grown",
        "abs-send-time wrapped",
        "sent earlier",
    ):
        assert path in seen.paths, seen


def test_a_publisher_starved_to_a_remb_of_0_climbs_back_in_both() -> None:
    native, python = native_type()(), UplinkEstimator()
    sent = []
    for packet in shaped(STARVED):
        remb = python.add(*packet)  # raised ZeroDivisionError with aiortc's controller
        assert native.add(*packet) == remb
        if remb is not None:
            sent.append(remb[0])
    after = sent[sent.index(0) :]
    assert after[-1] > 0 and after == sorted(after), after  # from 0 it only climbs


# --- values no path delivers -------------------------------------------------------


@dataclass(frozen=True)
class Extremes:
    seed: int
    packets: int
    origin: int
    size_bits: int  # sizes up to 2**size_bits
    negative_sizes: bool
    time_jump_bits: int  # arrival times jump by up to 2**time_jump_bits
    odd_send_times: bool  # abs-send-time any int, not 24 bits


LATEST = 2**61 - 10_000  # the C takes times within +-2**61 ms (and asks 2.5 s later)


def extreme_trace(case: Extremes) -> list[Packet]:
    rng = random.Random(case.seed)
    arrival, send, out = case.origin, rng.randrange(1 << 24), []
    for _ in range(case.packets):
        roll = rng.random()
        if roll < 0.01:
            arrival += rng.randrange(-(1 << case.time_jump_bits), 1 << case.time_jump_bits)
        elif roll < 0.6:
            arrival += rng.randrange(0, 40)
        arrival = max(-LATEST, min(LATEST, arrival))
        send += rng.randrange(0, 12000) if rng.random() < 0.9 else rng.randrange(1 << 24)
        low = -(1 << case.size_bits) if case.negative_sizes else 0
        size = rng.randrange(low, 1 << case.size_bits)
        abs_send_time = send & 0xFFFFFF
        if case.odd_send_times and rng.random() < 0.3:
            abs_send_time = send + rng.choice((-(1 << 70), -(1 << 24), 1 << 24, 1 << 64))
        out.append((arrival, abs_send_time, size, rng.choice(SSRCS + (-1, 1 << 62))))
    return out


extremes = st.builds(
    Extremes,
    seed=st.integers(0, 2**32),
    packets=st.integers(200, 3000),
    origin=st.sampled_from((0, -(2**60), 2**60, 3_900_000_000_000)),
    size_bits=st.sampled_from((0, 11, 20, 36)),
    negative_sizes=st.booleans(),
    time_jump_bits=st.sampled_from((10, 20, 40, 57)),
    odd_send_times=st.booleans(),
)


@settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=extremes)
def test_the_c_computes_as_pythons_ints_and_floats_do_far_beyond_real_values(
    case: Extremes,
) -> None:
    compare(extreme_trace(case), Seen(), every=7)


@pytest.mark.parametrize("jump", [2**55, 2**45, 10**7, -(2**55)])
def test_a_publisher_back_after_ages_gets_the_same_increase(jump: int) -> None:
    # the rate controller near its maximum (additive increase) when the clock jumps:
    # the increase over that time passes 64 bits before the Python clamps it
    packets = shaped(STARVED)
    for cut in (250, 650):
        compare(
            [(p[0] + jump, p[1], p[2], p[3]) if n >= cut else p for n, p in enumerate(packets)],
            Seen(),
        )


@settings(max_examples=1500 * SCALE, deadline=None)
@given(
    sizes=st.tuples(st.integers(0, 2**48), st.integers(0, 2**48)),
    now=st.integers(1, 1100),
)
def test_the_incoming_bitrate_is_pythons_division_rounded_as_python_rounds(
    sizes: tuple[int, int], now: int
) -> None:
    # one group counted from 0 ms, the next one open: round(8000 * bytes / span), with
    # bytes past 2**40 (8000 * bytes past a double's 53 bits: the C divides exactly)
    python, native = UplinkEstimator(), native_type()()
    for estimator in (python, native):
        estimator.add(0, 0, sizes[0], 1)
        estimator.add(10, 2621, sizes[1], 1)  # 10 ms later: the first group closes
    assert native.incoming_bitrate(now) == python.incoming_bitrate(now)


# --- the choice, the arguments, an object without __init__ ----------------------------


def test_the_environment_chooses_the_estimator(monkeypatch: pytest.MonkeyPatch) -> None:
    choose = native_uplink.uplink_estimate
    assert choose({"CAUCUS_UPLINK_ESTIMATE": "python"}) == "python"
    assert choose({"CAUCUS_UPLINK_ESTIMATE": " Python "}) == "python"
    built = "native" if _uplink is not None else "python"
    assert choose({}) == built
    assert choose({"CAUCUS_UPLINK_ESTIMATE": "auto"}) == built
    assert choose({"CAUCUS_UPLINK_ESTIMATE": ""}) == built
    with pytest.raises(ValueError, match="CAUCUS_UPLINK_ESTIMATE must be one of auto, native"):
        choose({"CAUCUS_UPLINK_ESTIMATE": "fast"})
    estimator = native_uplink.new_uplink_estimator({"CAUCUS_UPLINK_ESTIMATE": "python"})
    assert type(estimator) is UplinkEstimator
    monkeypatch.setattr(native_uplink, "_uplink", None)
    assert choose({}) == "python"
    with pytest.raises(ValueError, match="CAUCUS_UPLINK_ESTIMATE=native, but .*_uplink.c"):
        native_uplink.new_uplink_estimator({"CAUCUS_UPLINK_ESTIMATE": "native"})


@pytest.mark.parametrize("choice", ["python", "native"])
def test_a_video_receiver_gets_the_chosen_estimator(
    choice: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = UplinkEstimator if choice == "python" else native_type()
    monkeypatch.setenv("CAUCUS_UPLINK_ESTIMATE", choice)
    video = RTCRtpReceiver("video", types.SimpleNamespace(state="new"))  # type: ignore[arg-type]
    audio = RTCRtpReceiver("audio", types.SimpleNamespace(state="new"))  # type: ignore[arg-type]
    for receiver in (video, audio):
        receivers._install_recovery(receiver, nack=object(), assembler=object())  # type: ignore[arg-type]
    assert type(video._RTCRtpReceiver__remote_bitrate_estimator) is expected  # type: ignore[attr-defined]
    assert audio._RTCRtpReceiver__remote_bitrate_estimator is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "args",
    [
        (1.0, 0, 1200, 1),
        (1, 0.0, 1200, 1),
        (1, 0, 1200.0, 1),
        (1, 0, 1200, "1"),
        (None, 0, 1200, 1),
        (1, 0, 1200),
        (1, 0, 1200, 1, 5),
    ],
)
def test_anything_but_four_ints_is_a_type_error(args: tuple[Any, ...]) -> None:
    estimator = native_type()()
    with pytest.raises(TypeError):
        estimator.add(*args)
    with pytest.raises(TypeError):
        estimator.incoming_bitrate(1.5)
    with pytest.raises(TypeError):
        native_type()(1)
    assert estimator.snapshot() == native_type()().snapshot()  # nothing was counted


def test_values_beyond_64_bits_are_refused_not_wrapped() -> None:
    estimator = native_type()()
    for args in ((2**61, 0, 0, 1), (-(2**61), 0, 0, 1), (0, 0, 2**63, 1), (0, 0, 0, 2**64)):
        with pytest.raises(OverflowError):
            estimator.add(*args)
    with pytest.raises(OverflowError):
        estimator.incoming_bitrate(2**61)
    estimator.add(0, 0, 2**63 - 1, 1)
    with pytest.raises(OverflowError, match="beyond 64 bits"):
        estimator.add(1, 0, 1, 1)  # the group's bytes


def test_an_estimator_never_initialised_says_so() -> None:
    cls = native_type()
    bare = cls.__new__(cls)
    with pytest.raises(RuntimeError, match=r"__init__ was not called"):
        bare.add(1, 0, 1200, 1)
    with pytest.raises(RuntimeError, match=r"__init__ was not called"):
        bare.incoming_bitrate(1)
    with pytest.raises(RuntimeError, match=r"__init__ was not called"):
        bare.snapshot()
    with pytest.raises(RuntimeError, match=r"__init__ was not called"):
        bare.hypothesis  # noqa: B018
    with pytest.raises(RuntimeError, match=r"__init__ was not called"):
        bare.rate_control_state  # noqa: B018
    bare.__init__()
    assert bare.add(1, 0, 1200, 1) is None
    del bare  # dealloc of one made through __new__
    cls.__new__(cls)  # and of one never initialised
    again = cls()
    for packet in trace(5, TOUR[:2]):
        again.add(*packet)
    again.__init__()  # starts afresh
    assert again.snapshot() == cls().snapshot()
