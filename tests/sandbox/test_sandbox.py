"""Tests of the Bot API sandbox itself, driven through PTB's real network stack."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import httpx
import pytest
from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot.sandbox.html import HtmlParseError, parse_html, utf16_len
from bot.sandbox.server import BotApiSandbox, SandboxObserver
from bot.sandbox.users import SimMessage, SimUser

# PTB 22 itself warns inside RetryAfter.__init__ about int vs timedelta retry_after.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*")


def kb(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in row] for row in rows])


def retry_seconds(exc: RetryAfter) -> float:
    ra = exc._retry_after  # timedelta; the public property warns about int/timedelta in PTB 22
    return ra.total_seconds()


@pytest.fixture
async def sandbox():
    # Flood limits are exercised by dedicated tests with their own sandbox.
    sb = BotApiSandbox(enforce_limits=False)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


async def make_bot(sb: BotApiSandbox, pool: int = 64, **request_kwargs) -> Bot:
    bot = Bot(
        sb.token,
        base_url=sb.base_url,
        base_file_url=sb.base_file_url,
        request=HTTPXRequest(connection_pool_size=pool, **request_kwargs),
        get_updates_request=HTTPXRequest(connection_pool_size=2),
    )
    await bot.initialize()
    return bot


@pytest.fixture
async def bot(sandbox):
    b = await make_bot(sandbox)
    try:
        yield b
    finally:
        await b.shutdown()


# ---------------------------------------------------------------------------- HTML parser


def test_html_parser_entities_and_utf16_offsets():
    p = parse_html('😀 <b>Sveiki</b>, <a href="https://x.lv/?a=1&amp;b=2">saite</a> &lt;3 &#x1F44D;&#33;')
    assert p.text == "😀 Sveiki, saite <3 👍!"
    assert p.entities == [
        {"offset": 3, "length": 6, "type": "bold"},
        {"offset": 11, "length": 5, "type": "text_link", "url": "https://x.lv/?a=1&b=2"},
    ]
    assert utf16_len("😀a") == 3

    p = parse_html('<pre><code class="language-python">x = 1</code></pre><blockquote expandable>q</blockquote>')
    assert p.entities == [
        {"offset": 0, "length": 5, "type": "pre", "language": "python"},
        {"offset": 5, "length": 1, "type": "expandable_blockquote"},
    ]
    p = parse_html('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler><B>u</B><s>v</s>')
    assert [e["type"] for e in p.entities] == ["spoiler", "spoiler", "bold", "strikethrough"]


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("R&D", "Unsupported HTML entity at byte offset 1"),
        ("&nbsp;", "Unsupported HTML entity at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        ("ā<b", "Unclosed start tag at byte offset 2"),
    ],
)
def test_html_parser_errors(html, reason):
    with pytest.raises(HtmlParseError) as ei:
        parse_html(html)
    assert str(ei.value).startswith(reason)


# ---------------------------------------------------------------------------- basics


async def test_get_me_and_wrong_token(sandbox, bot):
    me = await bot.get_me()
    assert me.username == "sauciens_bot" and me.is_bot and me.id == 123456

    bad = Bot("999:WRONG", base_url=sandbox.base_url)
    with pytest.raises(InvalidToken, match="(?i)Unauthorized"):
        await bad.get_me()
    await bad.shutdown()
    assert sandbox.count("getMe", 401) == 1
    assert sandbox.count("getme", 200) >= 1


async def test_raw_http_json_urlencoded_query_and_unknown_method(sandbox):
    sandbox.user(7, "Ilze")
    url = f"{sandbox.base_url}{sandbox.token}"
    async with httpx.AsyncClient() as c:
        r = await c.post(f"{url}/noSuchMethod")
        assert r.status_code == 404 and r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}

        markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
        r = await c.post(f"{url}/SENDMESSAGE", json={"chat_id": 7, "text": "123", "reply_markup": markup})
        body = r.json()
        assert r.status_code == 200 and body["ok"] and body["result"]["text"] == "123"
        assert body["result"]["reply_markup"] == markup

        r = await c.post(
            f"{url}/sendMessage", data={"chat_id": "7", "text": "true", "reply_markup": json.dumps(markup)}
        )
        assert r.json()["result"]["text"] == "true"

        r = await c.get(f"{url}/sendMessage", params={"chat_id": "7", "text": "q"})
        assert r.json()["result"]["text"] == "q"

        r = await c.post(
            f"{url}/sendMessage",
            json={"chat_id": 7, "text": "<b>x", "parse_mode": "HTML"},
            headers={"Connection": "close"},
        )
        assert r.status_code == 400
        assert r.json()["description"] == (
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
        )
    assert [m.text for m in sandbox.chat(7)] == ["123", "true", "q"]
    assert [c.status for c in sandbox.calls] == [404, 200, 200, 200, 400]
    assert sandbox.calls[1].method == "sendMessage" and sandbox.calls[1].chat_id == 7


async def test_send_message_reaches_user_and_user_message_reaches_bot(sandbox, bot):
    u = sandbox.user(1001, "Anna", "Bērziņa", username="anna")
    sent = await bot.send_message(
        1001,
        "<b>Sveiki</b>, Anna &amp; 😀 <i>laipni</i>",
        parse_mode="HTML",
        reply_markup=kb([("Jā", "yes"), ("Nē", "no")]),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        protect_content=True,
    )
    assert sent.text == "Sveiki, Anna & 😀 laipni"
    assert sent.entities[0] == MessageEntity("bold", 0, 6)
    assert sent.entities[1] == MessageEntity("italic", 18, 6)
    assert sent.chat.id == 1001 and sent.from_user.username == "sauciens_bot"
    assert sent.reply_markup.inline_keyboard[0][1].callback_data == "no"

    msg = u.last
    assert msg is u.messages[-1] and msg.message_id == sent.message_id
    assert msg.text == "Sveiki, Anna & 😀 laipni"
    assert msg.html == "<b>Sveiki</b>, Anna &amp; 😀 <i>laipni</i>"
    assert msg.buttons == [[("Jā", "yes"), ("Nē", "no")]]
    assert msg.params["protect_content"] is True
    assert msg.params["link_preview_options"] == {"is_disabled": True}

    user_msg = await u.send("/start ref_42")
    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 1
    m = updates[0].message
    assert m.text == "/start ref_42" and m.from_user.id == 1001 and m.from_user.language_code == "lv"
    assert m.chat.type == "private" and m.chat.username == "anna"
    assert m.entities == (MessageEntity("bot_command", 0, 6),)
    assert m.message_id == user_msg["message_id"] != sent.message_id

    # unconfirmed updates are delivered again; confirmed ones are gone
    assert [x.update_id for x in await bot.get_updates()] == [updates[0].update_id]
    assert await bot.get_updates(offset=updates[0].update_id + 1) == ()
    assert sandbox.pending_updates == 0


async def test_press_creates_callback_query_and_answer_is_recorded(sandbox, bot):
    u = sandbox.user(1002, "Jānis")
    await bot.send_message(1002, "Vai vari palīdzēt?", reply_markup=kb([("✅ Jā, varu", "acc:1"), ("Nē", "dec:1")]))
    qid = await u.press("Jā")  # substring of the label
    [upd] = await bot.get_updates()
    cq = upd.callback_query
    assert cq.id == qid and cq.data == "acc:1" and cq.from_user.id == 1002
    assert cq.message.text == "Vai vari palīdzēt?" and cq.chat_instance

    assert u.callback_answer(qid) is None
    await cq.answer("Paldies!", show_alert=True)
    assert u.callback_answer(qid) == {"text": "Paldies!", "show_alert": True, "url": None}
    assert await u.wait_answered(qid, timeout=1) == u.callback_answer(qid)
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(qid)
    with pytest.raises(BadRequest, match="(?i)query ID is invalid"):
        await bot.answer_callback_query("123")

    qid2 = await u.press("dec:1")  # by callback_data
    [upd2] = await bot.get_updates(offset=upd.update_id + 1)
    assert upd2.callback_query.data == "dec:1" and upd2.callback_query.id == qid2 != qid


async def test_press_missing_button_lists_visible_buttons(sandbox, bot):
    u = sandbox.user(1003, "Laura")
    await bot.send_message(1003, "Izvēlies", reply_markup=kb([("Rīga", "m:riga"), ("Cēsis", "m:cesis")]))
    with pytest.raises(AssertionError) as ei:
        await u.press("Liepāja")
    assert "Liepāja" in str(ei.value) and "Rīga" in str(ei.value) and "m:cesis" in str(ei.value)
    assert sandbox.pending_updates == 0

    await bot.send_message(
        1003, "Saite", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Web", url="https://example.lv")]])
    )
    with pytest.raises(AssertionError, match="not a callback button"):
        await u.press("Web")


async def test_html_errors_length_and_empty_text(sandbox, bot):
    sandbox.user(1004, "Pēteris")
    for bad in ("<b>x", "Tom & Jerry", "a <br> b", "<b><i>x</b></i>", "1 < 2"):
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await bot.send_message(1004, bad, parse_mode="HTML")
    # without parse_mode the same text is fine
    await bot.send_message(1004, "Tom & Jerry <3")
    assert sandbox.chat(1004)[-1].text == "Tom & Jerry <3"

    await bot.send_message(1004, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")  # tags don't count
    await bot.send_message(1004, "😀" * 2048)  # 4096 UTF-16 code units
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(1004, "a" * 4097)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(1004, "😀" * 2048 + "a")
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(1004, "  \n ")
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(1004, "<b> </b>", parse_mode="HTML")


async def test_button_data_invalid(sandbox, bot):
    sandbox.user(1005, "Ieva")
    await bot.send_message(1005, "ok", reply_markup=kb([("x", "d" * 64)]))
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(1005, "x", reply_markup=kb([("a", "ok"), ("b", "d" * 65)]))
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(1005, "x", reply_markup=kb([("a", "ā" * 33)]))  # 66 bytes
    assert len(sandbox.chat(1005)) == 1


async def test_edits_not_modified_and_missing(sandbox, bot):
    u = sandbox.user(1006, "Kārlis")
    m = await bot.send_message(1006, "<b>Statuss</b>: gaida", parse_mode="HTML", reply_markup=kb([("Atcelt", "c")]))
    with pytest.raises(BadRequest, match="(?i)message is not modified: specified new message content"):
        await bot.edit_message_text(
            "<b>Statuss</b>: gaida", 1006, m.message_id, parse_mode="HTML", reply_markup=kb([("Atcelt", "c")])
        )
    # same plain text but different entities is a modification
    await bot.edit_message_text("Statuss: gaida", 1006, m.message_id, reply_markup=kb([("Atcelt", "c")]))
    assert u.last.edited == 1 and u.last.entities == [] and u.last.buttons == [[("Atcelt", "c")]]
    # no reply_markup removes the inline keyboard, like Telegram
    edited = await bot.edit_message_text("Statuss: apstiprināts", 1006, m.message_id)
    assert edited.text == "Statuss: apstiprināts" and edited.edit_date is not None
    assert u.last.buttons == [] and u.last.edited == 2 and len(u.messages) == 1

    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_reply_markup(1006, m.message_id, reply_markup=None)
    await bot.edit_message_reply_markup(1006, m.message_id, reply_markup=kb([("Jauns", "n")]))
    assert u.last.buttons == [[("Jauns", "n")]]

    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", 1006, 999)
    user_msg = await u.send("sveiki")
    with pytest.raises(BadRequest, match="(?i)message can't be edited"):
        await bot.edit_message_text("x", 1006, user_msg["message_id"])
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.edit_message_text("x", 424242, 1)


async def test_blocked_user_forbidden_and_chat_not_found(sandbox, bot):
    u = sandbox.user(1007, "Zane")
    late = sandbox.user(1008, "Maris", started=False)
    u.block()
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(1007, "Sveiki")
    with pytest.raises(AssertionError, match="blocked the bot"):
        await u.send("hi")
    u.unblock()
    await bot.send_message(1007, "Sveiki")

    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(555, "x")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(1008, "x")
    await late.send("/start")
    await bot.send_message(1008, "Tagad var")
    assert late.last.text == "Tagad var"
    assert sandbox.count("sendMessage", 403) == 1 and sandbox.count("sendMessage", 400) == 2


@pytest.fixture
async def limited():
    async with BotApiSandbox() as sb:
        b = await make_bot(sb)
        try:
            yield sb, b
        finally:
            await b.shutdown()


async def test_global_flood_limit_raises_retry_after():
    # burst of 30 like Telegram; slow refill keeps the count independent of machine speed
    sandbox = BotApiSandbox(global_rate=2.0)
    await sandbox.start()
    bot = await make_bot(sandbox)
    try:
        await _flood(sandbox, bot)
    finally:
        await bot.shutdown()
        await sandbox.stop()


async def _flood(sandbox: BotApiSandbox, bot: Bot) -> None:
    for uid in range(2000, 2040):
        sandbox.user(uid, f"U{uid}")
    ok = 0
    with pytest.raises(RetryAfter) as ei:
        for uid in range(2000, 2040):
            await bot.send_message(uid, "Trauksme!")
            ok += 1
    assert 30 <= ok <= 33
    assert retry_seconds(ei.value) >= 1
    assert sandbox.count("sendMessage", 429) == 1
    assert sandbox.count("sendMessage", 200) == ok

    # paid broadcast uses a 1000/s global budget instead
    for uid in range(2000, 2040):
        await bot.send_message(uid, "Maksas apraide", allow_paid_broadcast=True)
    assert sandbox.chat(2039)[-1].params["allow_paid_broadcast"] is True


async def test_per_chat_limit_and_edits_count_as_messages(limited):
    """Telegram counts edits against its limits as it counts sends (issue 7)."""
    sandbox, bot = limited
    sandbox.user(1009, "Edgars")
    msgs = [await bot.send_message(1009, f"#{i}") for i in range(3)]
    with pytest.raises(RetryAfter) as ei:
        await bot.send_message(1009, "#3")
    assert retry_seconds(ei.value) == 1
    with pytest.raises(RetryAfter):  # the chat's burst is spent: an edit waits as a send does
        await bot.edit_message_text("edit", 1009, msgs[0].message_id)
    await asyncio.sleep(1.05)
    await bot.edit_message_text("edit 1", 1009, msgs[0].message_id)
    with pytest.raises(BadRequest, match="not modified"):  # an edit that changes nothing is not counted
        await bot.edit_message_text("edit 1", 1009, msgs[0].message_id)
    await asyncio.sleep(1.05)
    await bot.send_message(1009, "#3 again")
    assert [m.text for m in sandbox.chat(1009)] == ["edit 1", "#1", "#2", "#3 again"]


async def test_limits_can_be_disabled():
    async with BotApiSandbox(enforce_limits=True) as sb:
        sb.enforce_limits = False
        sb.user(1, "A")
        b = await make_bot(sb)
        await asyncio.gather(*(b.send_message(1, str(i)) for i in range(50)))
        await b.shutdown()
        assert len(sb.chat(1)) == 50 and sb.count("sendMessage", 200) == 50


async def test_injected_faults(sandbox):
    sandbox.user(1010, "Rita")
    bot = await make_bot(sandbox, read_timeout=0.3)
    try:
        sandbox.inject_faults("sendMessage", "5xx")
        with pytest.raises(NetworkError) as ei:
            await bot.send_message(1010, "a")
        assert not isinstance(ei.value, BadRequest) and "Bad Gateway" in str(ei.value)

        sandbox.inject_faults("sendmessage", "drop")
        with pytest.raises(NetworkError) as ei:
            await bot.send_message(1010, "b")
        assert not isinstance(ei.value, (BadRequest, TimedOut))

        sandbox.inject_faults("sendMessage", "429", retry_after=7)
        with pytest.raises(RetryAfter) as retry:
            await bot.send_message(1010, "c")
        assert retry_seconds(retry.value) == 7

        sandbox.inject_faults("sendMessage", "timeout")
        t0 = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_message(1010, "d")
        assert time.monotonic() - t0 < 2

        await bot.send_message(1010, "e")  # faults are used up
        assert [m.text for m in sandbox.chat(1010)] == ["e"]
        assert sandbox.count("sendMessage", 502) == 1 and sandbox.count("sendMessage", 429) == 1
        assert sandbox.count("sendMessage", 0) == 2 and sandbox.count("sendMessage") == 5

        sandbox.inject_faults("getMe", "5xx", count=2)
        for _ in range(2):
            with pytest.raises(NetworkError):
                await bot.get_me()
        await bot.get_me()
        with pytest.raises(ValueError):
            sandbox.inject_faults("getMe", "explode")
    finally:
        await bot.shutdown()


async def test_send_document_keeps_bytes_and_can_be_downloaded(sandbox, bot):
    u = sandbox.user(1011, "Linda")
    data = "vārds,tālrunis\nAnna,+37120000000\n".encode()
    m = await bot.send_document(
        1011, document=data, filename="pieteikumi_ā.csv", caption="<b>Eksports</b> (1)", parse_mode="HTML"
    )
    assert m.document.file_name == "pieteikumi_ā.csv" and m.document.file_size == len(data)
    assert m.caption == "Eksports (1)" and m.caption_entities[0].type == "bold"
    assert u.last.document == ("pieteikumi_ā.csv", data)
    assert u.last.text == "Eksports (1)"

    f = await bot.get_file(m.document.file_id)
    assert bytes(await f.download_as_bytearray()) == data
    # resend by file_id
    m2 = await bot.send_document(1011, m.document.file_id)
    assert u.last.document == ("pieteikumi_ā.csv", data) and m2.document.file_id == m.document.file_id
    with pytest.raises(BadRequest, match="(?i)message caption is too long"):
        await bot.send_document(1011, document=b"x", filename="x.txt", caption="c" * 1025)


async def test_location_contact_chat_action_delete_get_chat_and_commands(sandbox, bot):
    u = sandbox.user(1012, "Oskars", language_code="en")
    loc = await bot.send_location(1012, 56.95, 24.1)
    assert loc.location.latitude == 56.95 and u.last.location == {"latitude": 56.95, "longitude": 24.1}
    c = await bot.send_contact(1012, "+37129999999", "Koordinators")
    assert c.contact.phone_number == "+37129999999" and u.last.contact["first_name"] == "Koordinators"
    assert await bot.send_chat_action(1012, "typing") is True
    assert await bot.delete_message(1012, loc.message_id) is True
    assert [m.message_id for m in u.messages] == [c.message_id]
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(1012, loc.message_id)
    chat = await bot.get_chat(1012)
    assert chat.type == "private" and chat.first_name == "Oskars"

    from telegram import BotCommand, BotCommandScopeAllPrivateChats

    await bot.set_my_commands([BotCommand("start", "Sākt"), BotCommand("alert", "Trauksme")])
    await bot.set_my_commands([BotCommand("help", "Help")], language_code="en")
    assert [x.command for x in await bot.get_my_commands()] == ["start", "alert"]
    assert [x.command for x in await bot.get_my_commands(language_code="en")] == ["help"]
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == ()
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "x")])
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    assert await bot.set_chat_menu_button() is True


async def test_reply_keyboards_location_and_contact_sharing(sandbox, bot):
    u = sandbox.user(1013, "Agnese")
    await bot.send_message(
        1013,
        "Dalies ar tālruni",
        reply_markup=ReplyKeyboardMarkup(
            [[KeyboardButton("📱 Kopīgot numuru", request_contact=True)], ["Atcelt"]], one_time_keyboard=True
        ),
    )
    assert u.reply_keyboard == [["📱 Kopīgot numuru"], ["Atcelt"]]
    assert u.last.buttons == [] and u.last.reply_keyboard == u.reply_keyboard
    with pytest.raises(AssertionError, match="Atcelt"):
        await u.tap_reply_button("Nav tādas")
    await u.tap_reply_button("Atcelt")
    assert u.reply_keyboard is None  # one-time keyboard hides after use
    await u.share_contact("+37120000001")
    await u.share_contact("+37120000002", own=False)
    await u.share_location(56.9, 24.1)
    ups = await bot.get_updates()
    assert ups[0].message.text == "Atcelt"
    assert ups[1].message.contact.user_id == 1013 and ups[1].message.contact.phone_number == "+37120000001"
    assert ups[2].message.contact.user_id != 1013
    assert ups[3].message.location.latitude == 56.9

    await bot.send_message(1013, "Izvēlne", reply_markup=ReplyKeyboardMarkup([["A", "B"]]))
    assert u.reply_keyboard == [["A", "B"]]
    await bot.send_message(1013, "Noņemts", reply_markup=ReplyKeyboardRemove())
    assert u.reply_keyboard is None
    await bot.send_message(1013, "Atbildi", reply_markup=ForceReply())
    reply = await bot.send_message(1013, "Atbilde", reply_parameters=ReplyParameters(u.last.message_id))
    assert reply.reply_to_message.text == "Atbildi"
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(1013, "x", reply_parameters=ReplyParameters(9999))


async def test_group_chat(sandbox, bot):
    g = sandbox.group(-1001, "Rīgas brīvprātīgie")
    u = sandbox.user(1014, "Roberts")
    await u.send_in_group(g, "/start@sauciens_bot")
    [upd] = await bot.get_updates()
    assert upd.message.chat.type == "group" and upd.message.chat.title == "Rīgas brīvprātīgie"
    assert upd.message.entities[0].length == len("/start@sauciens_bot")
    await bot.send_message(-1001, "Sveiki, grupa", reply_markup=kb([("Pieteikties", "join")]))
    assert g.messages[-1].text == "Sveiki, grupa" and u.messages == []
    assert (await g.wait_for("grupa", timeout=1)).chat_id == -1001
    qid = await u.press("Pieteikties", chat=g)
    ups = await bot.get_updates(offset=upd.update_id + 1)
    assert ups[0].callback_query.id == qid and ups[0].callback_query.message.chat.id == -1001
    g.block()
    with pytest.raises(Forbidden, match="(?i)kicked"):
        await bot.send_message(-1001, "x")
    assert (await bot.get_chat(-1001)).title == "Rīgas brīvprātīgie"
    assert sandbox.group(-100123456789012, "Super").chat.type == "supergroup"


async def test_long_polling_returns_early_and_times_out(sandbox, bot):
    u = sandbox.user(1015, "Dace")
    t0 = time.monotonic()
    assert await bot.get_updates(timeout=0.3) == ()
    assert 0.25 < time.monotonic() - t0 < 1.0

    async def later():
        await asyncio.sleep(0.2)
        await u.send("Palīgā!")

    t0 = time.monotonic()
    task = asyncio.create_task(later())
    ups = await bot.get_updates(timeout=10)
    elapsed = time.monotonic() - t0
    await task
    assert ups[0].message.text == "Palīgā!" and 0.15 < elapsed < 1.0


async def test_concurrent_get_updates_conflict(sandbox):
    bot = await make_bot(sandbox)
    other = await make_bot(sandbox)
    try:
        first = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(other.get_updates(timeout=timedelta(seconds=0.2)))
        with pytest.raises(Conflict, match="(?i)terminated by other getUpdates"):
            await first
        assert await second == ()
    finally:
        await bot.shutdown()
        await other.shutdown()


async def _raw_request(port: int, token: str, method: str, payload: dict, conns: int, per_conn: int) -> list[int]:
    """Send requests over ``conns`` concurrent keep-alive connections; return the statuses."""
    body = json.dumps(payload).encode()
    req = (
        f"POST /bot{token}/{method} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    statuses: list[int] = []

    async def worker() -> None:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(per_conn):
            w.write(req)
            head = await r.readuntil(b"\r\n\r\n")
            statuses.append(int(head.split(b" ")[1]))
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await r.readexactly(length)
        w.close()

    await asyncio.gather(*(worker() for _ in range(conns)))
    return statuses


async def test_latency_is_applied_concurrently():
    async with BotApiSandbox(latency=0.25) as sb:
        sb.user(1, "A")
        b = await make_bot(sb, pool=50)
        try:
            t0 = time.monotonic()
            await b.get_me()
            assert 0.25 <= time.monotonic() - t0 < 0.6
            t0 = time.monotonic()
            await asyncio.gather(*(b.get_chat(1) for _ in range(40)))
            assert 0.25 <= time.monotonic() - t0 < 1.5  # overlapping, not 40 * 0.25 s
        finally:
            await b.shutdown()
        # hundreds of concurrent keep-alive connections, two requests each
        t0 = time.monotonic()
        statuses = await _raw_request(sb.port, sb.token, "getChat", {"chat_id": 1}, conns=400, per_conn=2)
        elapsed = time.monotonic() - t0
        assert statuses == [200] * 800
        assert 0.5 <= elapsed < 1.5, elapsed


async def test_server_throughput_raw_keepalive():
    """The server itself handles well over 1000 requests/s (PTB/httpx is the slower side)."""
    async with BotApiSandbox(enforce_limits=False) as sb:
        sb.user(1, "A")
        t0 = time.monotonic()
        statuses = await _raw_request(sb.port, sb.token, "sendMessage", {"chat_id": 1, "text": "x"}, 200, 10)
        elapsed = time.monotonic() - t0
        assert statuses == [200] * 2000 and len(sb.chat(1)) == 2000
        assert elapsed < 2.0, f"2000 requests took {elapsed:.2f}s"


async def test_application_end_to_end_with_wait_helpers(sandbox):
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None  # a CommandHandler's update has one
        await update.message.reply_html(
            "<b>Sveiki!</b> Vai esi gatavs palīdzēt?", reply_markup=kb([("Jā", "y"), ("Nē", "n")])
        )

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        q = update.callback_query
        assert q is not None  # a CallbackQueryHandler's update has one
        await q.answer("Saņemts")
        await q.edit_message_text(f"Atbilde: {q.data}")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None  # filters.TEXT passes only messages
        await update.message.reply_text(f"Tu rakstīji: {update.message.text}")

    app = ApplicationBuilder().token(sandbox.token).base_url(sandbox.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    u = sandbox.user(1016, "Inese")
    updater = app.updater
    assert updater is not None  # ApplicationBuilder makes one unless told not to
    async with app:
        await app.start()
        await updater.start_polling(poll_interval=0, timeout=5)
        try:
            await u.send("/start")
            msg = await u.wait_for("gatavs")
            assert msg.buttons == [[("Jā", "y"), ("Nē", "n")]]
            qid = await u.press("Nē")
            assert await u.wait_answered(qid) == {"text": "Saņemts", "show_alert": False, "url": None}
            edited = await u.wait_for_edit(msg, "Atbilde: n")
            assert edited is msg and msg.edited == 1 and msg.buttons == []
            await u.send("labdien")
            assert (await u.wait_for(lambda m: m.text.startswith("Tu rakstīji"))).text == "Tu rakstīji: labdien"
            await sandbox.wait_idle(timeout=3)
            with pytest.raises(AssertionError, match="Last bot messages"):
                await u.wait_for("nekas tāds", timeout=0.2)
            await u.wait_no_message(0.2)
        finally:
            await updater.stop()
            await app.stop()
    assert sandbox.pending_updates == 0
    assert sandbox.count("sendMessage", 200) == 2 and sandbox.count("editMessageText", 200) == 1


async def test_observers_see_messages_edits_taps_and_answers_and_latency_may_be_a_function():
    class Log(SandboxObserver):
        def __init__(self) -> None:
            self.events: list[tuple[str, str]] = []

        def bot_message(self, msg: SimMessage) -> None:
            self.events.append(("bot", msg.text))

        def bot_edit(self, msg: SimMessage) -> None:
            self.events.append(("edit", msg.text))

        def user_message(self, msg: SimMessage) -> None:
            self.events.append(("user", msg.text))

        def tap(self, user: SimUser, msg: SimMessage, data: str) -> None:
            self.events.append(("tap", data))

        def callback_answered(self, query: dict) -> None:
            self.events.append(("answer", query["text"]))

    asked: list[float] = []

    def latency() -> float:
        asked.append(0.2 if not asked else 0.0)  # only the first request is slow
        return asked[-1]

    async with BotApiSandbox(enforce_limits=False, latency=latency) as sb:
        log = Log()
        sb.add_observer(log)
        u = sb.user(7, "A")
        t0 = time.monotonic()
        b = await make_bot(sb)  # getMe
        try:
            assert time.monotonic() - t0 >= 0.2 and len(asked) == 1
            await b.get_chat(7)
            assert len(asked) == 2
            await u.send("hello")
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
            sent = await b.send_message(7, "pick", reply_markup=keyboard)
            qid = await u.press("Go")
            await b.answer_callback_query(qid, text="done")
            await b.edit_message_text("picked", chat_id=7, message_id=sent.message_id)
        finally:
            await b.shutdown()
    assert log.events == [
        ("user", "hello"),
        ("bot", "pick"),
        ("tap", "go"),
        ("answer", "done"),
        ("edit", "picked"),
    ]
