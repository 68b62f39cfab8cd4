"""Scripted people for the sandbox: registration walk-throughs shared by the demo and the tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.sandbox.users import SimMessage, SimUser


async def begin_registration(u: SimUser, *, lang: str = "lv") -> SimMessage:
    """/start, the language and consent; returns the question about the name."""
    en = lang == "en"
    await u.send("/start")
    await u.wait_for(lambda m: "English" in m.button_labels)
    await u.press("English" if en else "Latviešu")
    await u.wait_for("Do you agree" if en else "Vai piekrītat")
    await u.press("I agree" if en else "Piekrītu")
    return await u.wait_for("What name should" if en else "Kādu vārdu")


async def register_in_latvia(
    u: SimUser,
    *,
    lang: str = "lv",
    place: str = "Cēsis",
    skills: tuple[str, ...] | None = None,
    name: str | None = None,
    phone: str | None = None,
) -> None:
    """The whole registration in Latvia; ``phone`` is shared as the person's own contact."""
    en = lang == "en"
    skills = skills or (("First aid",) if en else ("Pirmā palīdzība",))
    await begin_registration(u, lang=lang)
    if name is None:
        await u.press("Yes" if en else "Jā")
    else:
        await u.send(name)
    await u.wait_for("Where are you" if en else "Kur jūs")
    await u.press("In Latvia" if en else "Latvijā")
    await u.wait_for("municipality" if en else "pašvaldīb")
    await u.send(place)
    await u.wait_for("Tap everything" if en else "Atzīmējiet")
    for skill in skills:
        await u.press(skill)
        await u.wait_for(label_ticked(skill))
    await u.press("Done" if en else "Gatavs")
    await u.wait_for("When can you" if en else "Kad jūs")
    await u.press("Any time" if en else "Jebkurā laikā")
    await u.wait_for("Quiet hours" if en else "Klusuma")
    await u.press("No quiet hours" if en else "Bez klusuma")
    await u.wait_for("phone number" if en else "tālruņa")
    if phone is None:
        await u.send("Skip" if en else "Izlaist")
    else:
        await u.share_contact(phone)
    await u.wait_for("Is everything right" if en else "Vai viss")
    await u.press("Confirm" if en else "Apstiprināt")
    await u.wait_for("You are registered" if en else "Reģistrācija pabeigta")


# ----- language-independent walk-throughs (they press buttons by callback data) -----------
#
# These work whatever the wording of the catalogs, so the demo and the benchmark do not
# depend on a translation being complete. ``think`` (optional) is awaited before each of the
# person's actions, to give simulated people a human pace: it gets what the person is about
# to do: "tap", "read" (a long text, before answering it) or the text they are about to type.

Think = Callable[[str], Awaitable[None]] | None


def button_data(msg: SimMessage) -> list[str]:
    """The callback data of every inline button of ``msg``, row by row."""
    return [data for row in msg.buttons for _, data in row if data]


def has_button(prefix: str) -> Callable[[SimMessage], bool]:
    """A wait_for predicate: the message has a button whose callback data starts with ``prefix``."""
    return lambda m: any(d.startswith(prefix) for d in button_data(m))


def label_ticked(label: str) -> Callable[[SimMessage], bool]:
    """A wait_for predicate: the message has a button labelled ``label`` with a ✅ in front."""
    return lambda m: any(("✅ " + label) in text for row in m.buttons for text, _ in row)


def data_ticked(data: str) -> Callable[[SimMessage], bool]:
    """A wait_for predicate: the button with callback data ``data`` is ticked (✅)."""
    return lambda m: any(d == data and text.startswith("✅") for row in m.buttons for text, d in row)


def _asks_for_contact(m: SimMessage) -> bool:
    markup = m.reply_markup_sent or {}
    return any(isinstance(b, dict) and b.get("request_contact") for row in markup.get("keyboard", []) for b in row)


async def _pause(think: Think, what: str = "tap") -> None:
    if think is not None:
        await think(what)


async def register_volunteer(
    u: SimUser,
    *,
    lang: str = "lv",
    place: str | None = "Cēsis",
    country: str | None = None,
    country_typed: str | None = None,
    city: str | None = None,
    skills: tuple[str, ...] = ("first_aid",),
    availability: str = "any",
    quiet: str | None = None,
    phone: str | None = None,
    think: Think = None,
    timeout: float = 10.0,
) -> SimMessage:
    """Register ``u`` through the chat: in Latvia (``place`` typed as people type it) or, when
    ``country`` is given, abroad (``country_typed``: type the country's name instead of
    pressing its button; ``city`` typed). ``skills`` are skill codes; ``quiet`` a preset
    like "22:00-07:00"; ``phone`` shared as the person's own contact (else Skip). Returns
    the final summary message (with 🎉)."""
    await _pause(think, "/start")
    await u.send("/start")
    await u.wait_for(has_button("lang:"), timeout)
    await _pause(think)
    await u.press(f"lang:{lang}")
    await u.wait_for(has_button(f"consent:{lang}:yes"), timeout)
    await _pause(think, "read")
    await u.press(f"consent:{lang}:yes")
    await u.wait_for(has_button("reg:name_ok"), timeout)
    await _pause(think)
    await u.press("reg:name_ok")
    await u.wait_for(has_button("reg:where:"), timeout)
    await _pause(think)
    if country is None:
        await u.press("reg:where:lv")
        await u.wait_for(has_button("reg:muni:"), timeout)
        await _pause(think, place or "Rīga")
        await u.send(place or "Rīga")
        got = await u.wait_for(lambda m: has_button("reg:skill")(m) or has_button("reg:muni:")(m), timeout)
        if not has_button("reg:skill")(got):  # "did you mean…?" or the list again: take the first
            await _pause(think)
            await u.press(next(d for d in button_data(got) if d.startswith("reg:muni:")), got)
            await u.wait_for(has_button("reg:skills_done"), timeout)
    else:
        await u.press("reg:where:abroad")
        asked = await u.wait_for(has_button("reg:country:"), timeout)
        await _pause(think, country_typed or "tap")
        if country_typed is None and f"reg:country:{country}" in button_data(asked):
            await u.press(f"reg:country:{country}", asked)
        else:
            await u.send(country_typed or country)
        got = await u.wait_for(lambda m: m.removes_keyboard or has_button("reg:country:")(m), timeout)
        if not got.removes_keyboard:  # "did you mean…?"
            await _pause(think)
            await u.press(f"reg:country:{country}", got)
            await u.wait_for(lambda m: m.removes_keyboard, timeout)
        await _pause(think, city or "London")
        await u.send(city or "London")
        got = await u.wait_for(lambda m: has_button("reg:skills_done")(m) or has_button("reg:tz:")(m), timeout)
        if has_button("reg:tz:")(got):
            await _pause(think)
            await u.press("reg:tz:0", got)
            await u.wait_for(has_button("reg:skills_done"), timeout)
    for code in skills:
        await _pause(think)
        await u.press(f"reg:skill:{code}")
        await u.wait_for(data_ticked(f"reg:skill:{code}"), timeout)
    await _pause(think)
    await u.press("reg:skills_done")
    await u.wait_for(has_button("reg:avail:"), timeout)
    await _pause(think)
    await u.press(f"reg:avail:{availability}")
    await u.wait_for(has_button("reg:quiet:"), timeout)
    await _pause(think)
    # the presets' buttons carry their index; their labels show the hours (with an en dash)
    await u.press(quiet.replace("-", "–") if quiet else "reg:quiet:none")
    asked = await u.wait_for(_asks_for_contact, timeout)
    await _pause(think, "read")
    if phone is not None:
        await u.share_contact(phone)
    else:
        await u.tap_reply_button((asked.reply_keyboard or [[], [""]])[1][0])  # "Skip"
    await u.wait_for(has_button("reg:confirm"), timeout)
    await _pause(think, "read")
    await u.press("reg:confirm")
    return await u.wait_for(lambda m: "🎉" in m.text, timeout)


async def register_abroad(
    u: SimUser,
    *,
    lang: str = "en",
    country: str = "GB",
    city: str = "London",
    skills: tuple[str, ...] = ("translation",),
    **options: Any,  # register_volunteer's other keywords, checked there
) -> SimMessage:
    """Register ``u`` as living abroad (see ``register_volunteer`` for the options)."""
    return await register_volunteer(u, lang=lang, country=country, city=city, skills=skills, **options)
