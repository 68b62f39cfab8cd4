"""Verifiable alerts (issue 11) through the sandbox: every alert carries ``/verify_CODE``; the
code, typed or tapped, or the alert forwarded, tells a genuine alert from an impersonation."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from bot.domain.people import Address
from bot.domain.verification import ALPHABET, GUESS_LIMIT
from bot.sandbox.users import SimUser, origin_channel, origin_chat, origin_hidden_user, origin_user
from tests.conftest import COORDINATOR_ID
from tests.e2e.seed import Spec, alert_messages, seed

CODE = re.compile(r"/verify_([A-Z2-9]{6})\b")
OGRE = "0040000"


async def send_alert(sandbox, text: str, args: str = "severity=critical areas=Ogre") -> SimUser:
    coord = sandbox.user(COORDINATOR_ID, "Kārlis", "Koordinators", language_code="en")
    await coord.send(f"/alert {args} {text}")
    preview = await coord.wait_for("Preview")
    # the preview shows where the code goes; the code itself is made when the alert is sent
    assert "/verify_······" in preview.text and not CODE.search(preview.text)
    await coord.press("🚀")
    await coord.wait_for("📤 Delivery")
    return coord


async def received_alert(u: SimUser, needle: str):
    await u.wait_for(needle, timeout=10)
    (msg,) = [m for m in alert_messages(u) if needle in m.text]
    return msg


def code_of(text: str) -> str:
    m = CODE.search(text)
    assert m is not None, text
    return m.group(1)


async def test_a_real_alert_verifies_by_its_code_typed_tapped_or_in_lower_case(sandbox, bot):
    anna, janis = await seed(bot, sandbox, [Spec(1, "Anna", "en", OGRE), Spec(2, "Jānis", "lv", OGRE)])
    await send_alert(sandbox, "Sandbags at the Ogre bridge\nBring gloves")
    msg = await received_alert(anna, "Sandbags")
    code = code_of(msg.text)
    assert all(c in ALPHABET for c in code)
    assert "🔐 Is it genuine? Check: /verify_" + code in msg.text
    (alert,) = await bot.services.alerts.list()
    assert alert.verify_code == code
    assert code_of((await received_alert(janis, "Sandbags")).text) == code  # one code per alert, not per person

    sent_at = alert.created_at.astimezone(ZoneInfo("Europe/Riga")).strftime("%H:%M")
    await anna.tap_command(f"/verify_{code}", msg)  # Telegram makes the line a command: tapping sends it
    answer = await anna.wait_for("Genuine")
    assert f"Code: {code} · alert #{alert.id}" in answer.text
    assert "Organisation: LAPAS" in answer.text and "Coordinator: Kārlis Koordinators" in answer.text
    assert "Sent: " in answer.text and f"{sent_at}, Riga time" in answer.text
    assert "Level: 🔴 CRITICAL" in answer.text
    assert "First line: “Sandbags at the Ogre bridge”" in answer.text and "gloves" not in answer.text

    for typed in (
        f"/verify {code}",
        f"/verify {code.lower()}",
        f"/verify_{code.lower()}",
        f"/verify {code[:3]} {code[3:]}",
    ):
        await anna.send(typed)
        assert f"alert #{alert.id}" in (await anna.wait_for("Genuine")).text, typed

    # in the person's language; and anyone who has started the bot may ask, registered or not
    await janis.send(f"/verify {code}")
    assert "Sūtīja: Kārlis Koordinators" in (await janis.wait_for("Īsts")).text
    stranger = sandbox.user(5001, "Svešais", language_code="en")
    await stranger.send(f"/verify_{code}")
    assert "Coordinator: Kārlis Koordinators" in (await stranger.wait_for("Genuine")).text


async def test_unknown_and_malformed_codes_are_not_ours(sandbox, bot):
    (anna,) = await seed(bot, sandbox, [Spec(1, "Anna", "en", OGRE)])
    for typed, shown in (("/verify K7Q2PX", "K7Q2PX"), ("/verify_k7q2", "k7q2"), ("/verify <b>&", "<b>&")):
        await anna.send(typed)
        answer = await anna.wait_for("Not ours")
        assert f"the code {shown} was not issued by Sauciens" in answer.text  # escaped: shown as typed
        assert "ask the organisation named in it through a channel you already know" in answer.text
        assert "don't know that command" not in answer.text
    await anna.send("/verify")
    assert "forward the alert to me" in (await anna.wait_for("/verify K7Q2PX")).text


async def test_guessing_codes_is_throttled_per_person(sandbox, bot):
    anna, peteris = await seed(bot, sandbox, [Spec(1, "Anna", "en", OGRE), Spec(2, "Pēteris", "en", OGRE)])
    await send_alert(sandbox, "Sandbags at the Ogre bridge")
    code = code_of((await received_alert(anna, "Sandbags")).text)
    unknown = next(c * 6 for c in "ABCDEFGH" if c * 6 != code)
    for _ in range(GUESS_LIMIT.guesses):
        await anna.send(f"/verify {unknown}")
        await anna.wait_for("Not ours")
    await anna.send(f"/verify_{unknown}")
    assert "Please try again in 10 minutes" in (await anna.wait_for("codes that are not ours")).text
    await anna.send(f"/verify {code}")  # nothing is looked up for now, not even a real code
    await anna.wait_for("Please try again in")
    # a genuine alert forwarded guesses nothing, and others are not held up
    await anna.forward(next(m for m in alert_messages(anna)))
    await anna.wait_for("Genuine")
    await peteris.send(f"/verify {code}")
    await peteris.wait_for("Genuine")


async def test_a_forwarded_alert_is_genuine_only_from_this_bot(sandbox, bot):
    (anna,) = await seed(bot, sandbox, [Spec(1, "Anna", "en", OGRE)])
    await send_alert(sandbox, "Sandbags at the Ogre bridge\nBring gloves", args="severity=info areas=Ogre drill=yes")
    msg = await received_alert(anna, "Sandbags")
    code = code_of(msg.text)
    (alert,) = await bot.services.alerts.list()

    await anna.forward(msg)
    answer = await anna.wait_for("Genuine")
    assert "Sauciens sent this message" in answer.text and f"alert #{alert.id}" in answer.text
    assert "Level: 🔵 Info · 🧪 EXERCISE" in answer.text
    assert "First line: “Sandbags at the Ogre bridge”" in answer.text

    # the same text, from anyone else: a person, another bot called Sauciens, a hidden account, a channel, a group
    impostor_bot = {"id": 777000, "is_bot": True, "first_name": "Sauciens", "username": "sauciens_alerts_bot"}
    friend = sandbox.user(5002, "Ilze", "Draudzene", language_code="en")
    for origin, named in (
        (origin_user(friend), "forwarded from Ilze Draudzene"),
        (origin_user(impostor_bot), "forwarded from Sauciens, not from this bot (@sauciens_bot)"),
        (origin_hidden_user("Glābšanas dienests"), "an account that hides its name (Glābšanas dienests)"),
        (
            origin_channel(-1001234567890, "Sauciens ziņas", 42, username="sauciens_news"),
            "the channel “Sauciens ziņas”",
        ),
        (origin_chat(-1009876543210, "Ogres kaimiņi"), "the group “Ogres kaimiņi”"),
    ):
        await anna.forward_text(msg.text, origin, msg.entities)
        fake = await anna.wait_for("not sent by Sauciens")
        assert named in fake.text, fake.text
        assert "ask the organisation named in it through a channel you already know" in fake.text
        # it carries a real code: the person is shown how to compare with the real alert
        assert f"It carries the code /verify_{code}" in fake.text and "Genuine" not in fake.text

    await anna.forward_text("🔴 CRITICAL\nEvacuate Ogre now!", origin_user(friend))
    fake = await anna.wait_for("not sent by Sauciens")
    assert "It carries the code" not in fake.text

    # a message of the bot that is no alert
    await anna.send("/help")
    help_msg = await anna.wait_for("/profile")
    await anna.forward(help_msg)
    await anna.wait_for("carries no alert's code")


async def test_a_forward_is_never_input_to_a_flow(sandbox, bot):
    (anna,) = await seed(bot, sandbox, [Spec(1, "Anna", "en", OGRE)])
    await send_alert(sandbox, "Valmiera")
    alert_msg = await received_alert(anna, "Valmiera")

    # a newcomer asked for their municipality forwards an alert whose text is a municipality
    newcomer = sandbox.user(5003, "Jauns", language_code="en")
    await newcomer.send("/start")
    await newcomer.wait_for(lambda m: "English" in m.button_labels)
    await newcomer.press("English")
    await newcomer.wait_for("Do you agree")
    await newcomer.press("I agree")
    await newcomer.wait_for("name")
    await newcomer.press("Yes")
    await newcomer.wait_for("Where are you")
    await newcomer.press("In Latvia")
    await newcomer.wait_for("municipality")
    await newcomer.forward_text("Valmiera", origin_user(anna))
    await newcomer.wait_for("not sent by Sauciens")
    await newcomer.forward(alert_msg)  # Anna's alert, passed on to them: sent by the bot all the same
    await newcomer.wait_for("Genuine")
    await newcomer.send("Cēsis")
    await newcomer.wait_for("Tap everything")
    person = await bot.services.people.get(Address.telegram(newcomer.id))
    assert person is not None and person.municipality == "0026000"  # Cēsis, not Valmiera

    # a coordinator typing an alert's text
    coord = sandbox.user(COORDINATOR_ID, "Kārlis", "Koordinators", language_code="en")
    await coord.send("/alert")
    await coord.wait_for(lambda m: "📝 Text" in m.button_labels)
    await coord.press("📝 Text")
    await coord.wait_for("Type the alert text")
    await coord.forward_text("Fake text", origin_user(anna))
    await coord.wait_for("not sent by Sauciens")
    await coord.send("Real text")
    await coord.wait_for(lambda m: "Same text for everyone" in m.button_labels)
    await coord.press("Same text for everyone")
    menu = await coord.wait_for("Real text")
    assert "Fake text" not in menu.text
