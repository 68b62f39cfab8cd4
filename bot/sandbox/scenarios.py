"""Scripted people for the sandbox: registration walk-throughs shared by the demo and the tests."""

from __future__ import annotations

from bot.sandbox.users import SimUser


async def register_in_latvia(
    u: SimUser, *, lang: str = "lv", place: str = "Cēsis", skills: tuple[str, ...] | None = None,
    name: str | None = None,
) -> None:
    en = lang == "en"
    skills = skills or (("First aid",) if en else ("Pirmā palīdzība",))
    await u.send("/start")
    await u.wait_for(lambda m: "English" in m.button_labels)
    await u.press("English" if en else "Latviešu")
    await u.wait_for("Do you agree" if en else "Vai piekrītat")
    await u.press("I agree" if en else "Piekrītu")
    await u.wait_for("name" if en else "vārd")
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
        await u.wait_for(lambda m, s=skill: any(("✅ " + s) in label for row in m.buttons for label, _ in row))
    await u.press("Done" if en else "Gatavs")
    await u.wait_for("When can you" if en else "Kad jūs")
    await u.press("Any time" if en else "Jebkurā laikā")
    await u.wait_for("Quiet hours" if en else "Klusuma")
    await u.press("No quiet hours" if en else "Bez klusuma")
    await u.wait_for("phone number" if en else "tālruņa")
    await u.send("Skip" if en else "Izlaist")
    await u.wait_for("Is everything right" if en else "Vai viss")
    await u.press("Confirm" if en else "Apstiprināt")
    await u.wait_for("You are registered" if en else "Jūs esat reģistrēts")
