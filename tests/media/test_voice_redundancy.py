"""Which voices lose RED's copy on a short link: video first, lowest priority first, back
as the loss clears, and a restore the link cannot carry waits longer next time."""

from __future__ import annotations

from media.voice_redundancy import VoiceKnobs, VoiceRedundancy

VOICES = {"mediator": 0, "party_a": 1, "coach": 2}
KNOBS = VoiceKnobs(settle_s=2.0, restore_s=8.0, restore_max_s=32.0)
#: a loss above loss_short, one at or below loss_clear, and one between the two
SHORT, CLEAR, BETWEEN = 0.10, 0.0, 0.04


def step(
    voices: VoiceRedundancy,
    now: float,
    *,
    short: bool = False,
    clear: bool = False,
    video: bool = False,
) -> frozenset[str]:
    loss = SHORT if short else CLEAR if clear else BETWEEN
    return voices.choose(VOICES, loss=loss, video_forwarded=video, now=now)


def test_nothing_is_thinned_while_video_still_flows_or_the_link_is_not_short() -> None:
    voices = VoiceRedundancy(KNOBS)
    assert step(voices, 0.0, short=True, video=True) == frozenset()
    assert step(voices, 5.0) == frozenset()
    assert step(voices, 10.0, clear=True) == frozenset()


def test_a_short_link_with_video_paused_thins_one_voice_per_settle_lowest_priority_first() -> None:
    voices = VoiceRedundancy(KNOBS)
    assert step(voices, 0.0, short=True) == {"coach"}
    assert step(voices, 1.0, short=True) == {"coach"}  # not settled: one at a time
    assert step(voices, 2.0, short=True) == {"coach", "party_a"}
    assert step(voices, 4.0, short=True) == {"coach", "party_a", "mediator"}
    assert step(voices, 6.0, short=True) == {"coach", "party_a", "mediator"}  # audio stays


def test_clear_loss_gives_the_copies_back_highest_priority_first_after_the_wait() -> None:
    voices = VoiceRedundancy(KNOBS)
    step(voices, 0.0, short=True)
    step(voices, 2.0, short=True)
    assert step(voices, 3.0, clear=True) == {"coach", "party_a"}
    assert step(voices, 10.9, clear=True) == {"coach", "party_a"}
    assert step(voices, 11.0, clear=True) == {"coach"}  # 8 s clear: party_a first
    assert step(voices, 18.9, clear=True) == {"coach"}
    assert step(voices, 19.0, clear=True) == frozenset()


def test_loss_between_short_and_clear_holds_the_choice_and_restarts_the_clear_wait() -> None:
    voices = VoiceRedundancy(KNOBS)
    step(voices, 0.0, short=True)
    step(voices, 1.0, clear=True)
    assert step(voices, 8.5) == {"coach"}  # neither short nor clear
    assert step(voices, 9.0, clear=True) == {"coach"}
    assert step(voices, 16.9, clear=True) == {"coach"}
    assert step(voices, 17.0, clear=True) == frozenset()


def test_a_restore_answered_by_shortage_doubles_the_wait_up_to_the_most() -> None:
    voices = VoiceRedundancy(KNOBS)
    step(voices, 0.0, short=True)
    now, waits = 0.0, []
    for _ in range(4):
        clear_from = now + 0.5
        step(voices, clear_from, clear=True)
        restored = clear_from
        while step(voices, restored, clear=True):
            restored += 0.5
        waits.append(restored - clear_from)
        now = restored + KNOBS.settle_s
        assert step(voices, now, short=True) == {"coach"}  # the link could not carry it
    assert waits == [8.0, 16.0, 32.0, 32.0]


def test_a_voice_that_leaves_is_forgotten() -> None:
    voices = VoiceRedundancy(KNOBS)
    step(voices, 0.0, short=True)
    assert (
        voices.choose({"mediator": 0}, loss=BETWEEN, video_forwarded=False, now=1.0) == frozenset()
    )
    assert step(voices, 3.0, short=True) == {"coach"}


def test_a_later_shortage_starts_the_wait_afresh() -> None:
    voices = VoiceRedundancy(KNOBS)
    step(voices, 0.0, short=True)
    assert step(voices, 8.0, clear=True) == {"coach"}  # the clear wait starts here
    assert step(voices, 16.0, clear=True) == frozenset()
    assert step(voices, 18.0, short=True) == {"coach"}  # answered at once: doubled
    assert step(voices, 18.5, clear=True) == {"coach"}
    assert step(voices, 34.5, clear=True) == frozenset()  # 16 s
    assert step(voices, 60.0, short=True) == {"coach"}  # much later: a new shortage
    assert step(voices, 60.5, clear=True) == {"coach"}
    assert step(voices, 68.5, clear=True) == frozenset()  # 8 s again


def test_paused_video_may_resume_only_once_every_voice_is_back_and_carried() -> None:
    voices = VoiceRedundancy(KNOBS)
    assert voices.all_restored(0.0)
    step(voices, 0.0, short=True)
    assert not voices.all_restored(1.0)
    assert step(voices, 9.0, clear=True) == {"coach"}
    assert step(voices, 17.0, clear=True) == frozenset()
    assert not voices.all_restored(21.0)  # the copy just given back is being judged
    assert voices.all_restored(21.5)


def test_a_queue_building_thins_a_voice_whatever_the_loss_reported() -> None:
    # audio is repaired by NACK in its own stream, so a receiver counts a retransmitted
    # packet as received: an overflowing queue may report almost no loss
    voices = VoiceRedundancy(KNOBS)
    assert voices.choose(VOICES, loss=CLEAR, video_forwarded=False, now=0.0) == frozenset()
    assert voices.choose(VOICES, loss=CLEAR, video_forwarded=False, now=0.5, queued=True) == {
        "coach"
    }
    # ...but never while video still flows: it gives way first
    fresh = VoiceRedundancy(KNOBS)
    assert fresh.choose(VOICES, loss=CLEAR, video_forwarded=True, now=0.5, queued=True) == (
        frozenset()
    )


def test_no_copy_comes_back_while_a_queue_remains() -> None:
    voices = VoiceRedundancy(KNOBS)
    voices.choose(VOICES, loss=CLEAR, video_forwarded=False, now=0.0, queued=True)
    for t in range(1, 40):  # clear loss for long, a queue between the thresholds
        thinned = voices.choose(
            VOICES, loss=CLEAR, video_forwarded=False, now=float(t), queue_clear=False
        )
        assert thinned == {"coach"}
    assert step(voices, 40.0, clear=True) == {"coach"}  # the clear wait starts now
    assert step(voices, 48.0, clear=True) == frozenset()
