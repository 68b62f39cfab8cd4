"""PerChatOrderedProcessor: each chat's updates in arrival order, different chats at once,
at most ``max_concurrent_updates`` running, and a busy chat cannot take every slot."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.messenger.updates import PerChatOrderedProcessor, ordering_key


def message_update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    user = User(chat_id, "Test", is_bot=False)
    return Update(update_id, message=Message(update_id, datetime.now(UTC), chat, from_user=user, text="hi"))


async def test_one_chats_updates_run_one_after_another_in_arrival_order() -> None:
    processor = PerChatOrderedProcessor(8)
    await processor.initialize()
    order: list[int] = []
    running = 0
    overlap = False

    async def handle(n: int) -> None:
        nonlocal running, overlap
        running += 1
        overlap = overlap or running > 1
        await asyncio.sleep(0.01 if n % 2 else 0.002)  # later updates would overtake if not serialised
        order.append(n)
        running -= 1

    await asyncio.gather(*(processor.process_update(message_update(n, 42), handle(n)) for n in range(10)))
    assert order == list(range(10))
    assert not overlap


async def test_different_chats_run_concurrently_within_the_bound() -> None:
    processor = PerChatOrderedProcessor(3)
    running = 0
    peak = 0
    release = asyncio.Event()

    async def handle() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    tasks = [asyncio.create_task(processor.process_update(message_update(n, 100 + n), handle())) for n in range(6)]
    for _ in range(50):
        await asyncio.sleep(0)
    assert running == 3  # three chats at once, no more
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 3


async def test_a_busy_chat_does_not_hold_every_slot() -> None:
    processor = PerChatOrderedProcessor(2)
    busy_release = asyncio.Event()
    other_done = asyncio.Event()

    async def busy() -> None:
        await busy_release.wait()

    async def other() -> None:
        other_done.set()

    # Ten updates from one chat queue behind each other holding one slot at most…
    busy_tasks = [asyncio.create_task(processor.process_update(message_update(n, 7), busy())) for n in range(10)]
    await asyncio.sleep(0)
    # …so another chat's update still gets the second slot at once.
    other_task = asyncio.create_task(processor.process_update(message_update(99, 8), other()))
    await asyncio.wait_for(other_done.wait(), 1.0)
    busy_release.set()
    await asyncio.gather(*busy_tasks, other_task)


def test_updates_are_keyed_by_chat_then_user() -> None:
    assert ordering_key(message_update(1, 5)) == ("chat", 5)
    assert ordering_key(Update(2)) == ("other", None)
    assert ordering_key("not an update") == ("other", None)
