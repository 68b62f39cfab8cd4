"""The rule for newcomers and floods, on a clock of the test's own."""

from __future__ import annotations

from bot.application.throttle import Throttle, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def throttle(clock: Clock) -> Throttle:
    return Throttle(3.0, flood_messages=10, flood_window=10.0, repeat_window=30.0, clock=clock)


def newcomer(t: Throttle, ticket: int, text: str, key: str = "a") -> Verdict:
    return t.arrive(key, ticket, text, registered=False, exempt=False).verdict


def test_a_newcomer_gets_one_reply_per_interval_and_the_last_message_of_a_burst_is_answered():
    clock = Clock()
    t = throttle(clock)
    assert newcomer(t, 1, "/start") is Verdict.ANSWER
    clock.now += 0.5
    first = t.arrive("a", 2, "hello", registered=False, exempt=False)
    assert first.verdict is Verdict.HOLD and first.opens_in == 2.5 and first.superseded is None
    clock.now += 0.5
    second = t.arrive("a", 3, "anyone?", registered=False, exempt=False)
    assert second.verdict is Verdict.HOLD and second.superseded == 2  # the latest is kept
    assert t.due() == []  # the window is not open yet
    clock.now += 2.0
    assert t.due() == [3]
    assert newcomer(t, 3, "anyone?") is Verdict.ANSWER  # it comes back and is handled
    assert t.held == 0
    clock.now += 1.0
    assert newcomer(t, 4, "again") is Verdict.HOLD  # a new window began when 3 was released


def test_identical_messages_are_coalesced():
    clock = Clock()
    t = throttle(clock)
    assert newcomer(t, 1, "/start") is Verdict.ANSWER
    clock.now += 5.0
    assert newcomer(t, 2, "/start") is Verdict.COALESCED  # answered already
    assert newcomer(t, 3, "help") is Verdict.ANSWER
    clock.now += 1.0
    assert newcomer(t, 4, "hi") is Verdict.HOLD
    assert newcomer(t, 5, "hi") is Verdict.COALESCED  # the same as the held one
    clock.now += 40.0
    assert t.due() == [4]
    assert newcomer(t, 4, "hi") is Verdict.ANSWER
    clock.now += 3.0
    assert newcomer(t, 6, "/start") is Verdict.ANSWER  # long after: answered again


def test_people_are_throttled_apart():
    clock = Clock()
    t = throttle(clock)
    assert newcomer(t, 1, "/start", key="a") is Verdict.ANSWER
    assert newcomer(t, 2, "/start", key="b") is Verdict.ANSWER


def test_a_newcomers_taps_are_not_throttled_unless_flooding():
    clock = Clock()
    t = throttle(clock)
    verdicts = [t.arrive("a", i, f"reg:skill:{i}", registered=False, exempt=False, tap=True).verdict for i in range(10)]
    assert verdicts == [Verdict.ANSWER] * 10
    assert t.arrive("a", 11, "reg:skill:x", registered=False, exempt=False, tap=True).verdict is Verdict.ANSWER
    assert t.arrive("a", 12, "reg:skill:y", registered=False, exempt=False, tap=True).verdict is Verdict.HOLD


def test_registered_volunteers_are_throttled_only_when_flooding_and_never_when_answering():
    clock = Clock()
    t = throttle(clock)
    for i in range(10):
        assert t.arrive("v", i, f"m{i}", registered=True, exempt=False).verdict is Verdict.ANSWER
        clock.now += 0.1
    assert t.arrive("v", 10, "m10", registered=True, exempt=False).verdict is Verdict.ANSWER
    assert t.arrive("v", 11, "m11", registered=True, exempt=False).verdict is Verdict.HOLD  # the 12th in 10 s
    for i in range(100):  # answering an alert is exempt, however fast
        assert t.arrive("v", 100 + i, "ans:1:yes", registered=True, exempt=True).verdict is Verdict.ANSWER
    clock.now += 20.0
    assert t.due() == [11]
    assert t.arrive("v", 11, "m11", registered=True, exempt=False).verdict is Verdict.ANSWER
    clock.now += 1.0
    assert t.arrive("v", 12, "m12", registered=True, exempt=False).verdict is Verdict.ANSWER  # calm again


def test_an_interval_of_zero_turns_the_throttle_off():
    t = Throttle(0.0)
    assert not t.enabled
    assert all(t.arrive("a", i, "/start", registered=False, exempt=False).verdict is Verdict.ANSWER for i in range(50))


def test_an_update_let_through_again_is_answered_not_coalesced():
    clock = Clock()
    t = throttle(clock)
    assert newcomer(t, 1, "Zelma") is Verdict.ANSWER
    clock.now += 5.0
    assert newcomer(t, 2, "Zelma") is Verdict.COALESCED  # the same text again: answered already
    t.let_through(1)  # held back meanwhile for another reason (a changed privacy notice)
    assert newcomer(t, 1, "Zelma") is Verdict.ANSWER
    assert newcomer(t, 1, "Zelma") is Verdict.COALESCED  # once
    off = Throttle(0.0)
    off.let_through(7)
    assert off.arrive("a", 7, "x", registered=False, exempt=False).verdict is Verdict.ANSWER
