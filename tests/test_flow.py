"""Flood control, and concurrency across chats with order kept within a chat."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.authoring.fake_api import FakeBotApi
from bot.authoring.fake_updates import text_update
from bot.telegram import flow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_flooder_is_slowed_while_others_are_served(app: Application, api: FakeBotApi) -> None:
    clock = Clock()
    app.bot_data[flow.FLOOD_GUARD] = flow.FloodGuard(limit=5, window=60, clock=clock)
    flooder, neighbour = 31, 32
    for n in range(12):
        await app.process_update(text_update(app.bot, f"刷单返利 {n}", user_id=flooder))
        if n % 4 == 0:
            await app.process_update(text_update(app.bot, "被骗了怎么办", user_id=neighbour))
        clock.now += 1
    to_flooder = [m["text"] for m in api.sent() if int(m["chat_id"]) == flooder]
    to_neighbour = [m["text"] for m in api.sent() if int(m["chat_id"]) == neighbour]
    assert len(to_flooder) == 6 and to_flooder[-1] == "你发得太快了，请稍等一会儿再发。"
    assert len(to_neighbour) == 3 and all("110" in t for t in to_neighbour)
    # A new window: served again, and warned again only if flooding again.
    clock.now += 61
    api.clear()
    await app.process_update(text_update(app.bot, "被骗了怎么办", user_id=flooder))
    assert "110" in api.sent()[-1]["text"]


async def test_chats_run_concurrently_but_each_chat_in_order(
    app: Application, api: FakeBotApi
) -> None:
    slow_chat, quick_chat = 41, 42

    async def slow_first(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.chat_id == slow_chat and message.text == "你好":
            await asyncio.sleep(0.3)

    app.add_handler(TypeHandler(Update, slow_first), group=-2)
    for text, chat in (("你好", slow_chat), ("谢谢", slow_chat), ("再见", quick_chat)):
        await app.update_queue.put(text_update(app.bot, text, user_id=chat))
    for _ in range(100):
        if len(api.sent()) >= 3:
            break
        await asyncio.sleep(0.02)
    order = [(int(m["chat_id"]), m["text"][:3]) for m in api.sent()]
    assert order[0][0] == quick_chat  # not held up by the slow chat
    slow = [text for chat, text in order if chat == slow_chat]
    assert slow[0].startswith("你好") and slow[1].startswith("不客气")  # in order


async def test_a_third_update_of_a_chat_waits_for_the_second_after_the_first_is_done(
    app: Application,
) -> None:
    processor = flow.PerChatUpdateProcessor()
    update = text_update(app.bot, "你好", user_id=43)
    running: list[str] = []
    started: list[tuple[str, int]] = []  # who started, and how many of the chat's were running
    second_may_finish = asyncio.Event()

    async def turn(name: str, gate: asyncio.Event | None = None) -> None:
        running.append(name)
        started.append((name, len(running)))
        await (gate.wait() if gate else asyncio.sleep(0))
        running.remove(name)

    first = asyncio.create_task(processor.do_process_update(update, turn("first")))
    second = asyncio.create_task(
        processor.do_process_update(update, turn("second", second_may_finish))
    )
    await first  # the lock is released: the second is woken but has not run yet
    third = asyncio.create_task(processor.do_process_update(update, turn("third")))
    for _ in range(5):
        await asyncio.sleep(0.01)
    assert [name for name, _ in started] == ["first", "second"]  # the third waits
    second_may_finish.set()
    await asyncio.gather(second, third)
    assert started == [("first", 1), ("second", 1), ("third", 1)]
    assert processor._chats == {}  # and the chat is forgotten once all three are done
