"""The sending budget, on a clock of the test's own: waiting moves it on, so the figures are
exact and nothing depends on how busy the machine is. Rates are powers of two, so that the
waits add up exactly in binary floating point."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain.budget import SendBudget


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def budget(clock: Clock, rate: float, burst: float = 1.0, max_debt: float = 0.5) -> SendBudget:
    return SendBudget(rate, burst, max_debt, clock=clock, sleep=clock.sleep)


async def test_the_broadcast_goes_at_the_rate():
    clock = Clock()
    b = budget(clock, rate=8)
    for _ in range(25):  # the first token is there at once, then one every 1/8 s
        await b.acquire()
    assert clock.now == 3.0


async def test_a_burst_goes_at_once_then_the_rate():
    clock = Clock()
    b = budget(clock, rate=8, burst=5)
    for _ in range(5):
        await b.acquire()
    assert clock.now == 0.0
    await b.acquire()
    assert clock.now == 0.125


async def test_interactive_replies_do_not_wait_but_the_broadcast_pays_their_debt():
    clock = Clock()
    b = budget(clock, rate=8, burst=1, max_debt=0.5)  # up to 4 tokens of debt
    for _ in range(5):  # the token in the bucket and 4 in debt
        await b.acquire_interactive()
    assert clock.now == 0.0
    await b.acquire_interactive()  # the sixth waits for a token
    assert clock.now == 0.125
    await b.acquire()  # the broadcast waits until the debt is paid and a token is there
    assert clock.now == 0.125 + 5 / 8


async def test_a_pause_holds_everything_the_bot_sends_replies_included():
    """A 429's retry_after is Telegram's word for the whole bot (issue 7): replies and edits
    wait it out as the broadcast does."""
    clock = Clock()
    b = budget(clock, rate=8, burst=5)
    b.pause(2.0)
    b.pause(1.0)  # a shorter pause does not shorten it
    assert b.paused_for() == 2.0
    await b.acquire_interactive()
    assert clock.now == 2.0
    await b.acquire()
    assert clock.now == 2.0  # the pause is over and a token is there
    assert b.paused_for() == 0.0


def test_the_rate_must_be_positive():
    with pytest.raises(ValueError):
        SendBudget(0)
