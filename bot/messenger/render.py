"""Rendering domain objects as short Telegram-HTML texts in the reader's language."""

from __future__ import annotations

import html

from bot.domain import places, skills
from bot.domain.coalition import Reach, Scope
from bot.domain.people import ALL_ABROAD, Person
from bot.domain.places import Municipality
from bot.i18n import N_, Translator, language_name

esc = html.escape

AVAILABILITY_LABELS = {
    "any": N_("Any time"),
    "weekdays": N_("Weekdays"),
    "evenings_weekends": N_("Evenings and weekends"),
    "weekends": N_("Weekends only"),
}

#: The skill groups' headings (``bot/data/skills.csv``'s ``group`` column).
GROUP_HEADINGS = {
    "care": N_("Care and health"),
    "transport": N_("Transport"),
    "shelter": N_("Shelter and food"),
    "supplies": N_("Supplies and logistics"),
    "field": N_("Work on site"),
    "information": N_("Information and communication"),
    "coordination": N_("Coordination and support"),
}


def municipality_name(m: Municipality, t: Translator) -> str:
    """The territory's name in the reader's language (the official name in Latvian)."""
    return t._(m.name_en)


def group_heading(group: str, t: Translator) -> str:
    """A skill group's heading; the group's code if it has none."""
    return t._(GROUP_HEADINGS[group]) if group in GROUP_HEADINGS else group


def place_line(person: Person, t: Translator) -> str:
    if person.location_kind == "lv" and person.municipality:
        m = places.municipality(person.municipality)
        return t._("{place}, Latvia", place=esc(municipality_name(m, t) if m else person.municipality))
    if person.location_kind == "abroad" and person.country:
        country = t.country(person.country)
        city = esc(person.city) if person.city else "?"
        zone = esc(places.timezone_label(person.timezone, t.lang)) if person.timezone else "?"
        return t._("{city}, {country} (time zone: {zone})", city=city, country=esc(country), zone=zone)
    return "—"


def skills_line(codes: tuple[str, ...] | list[str], t: Translator) -> str:
    labels = [t._(s.label) for s in skills.skills() if s.code in set(codes)]
    return esc(", ".join(labels)) if labels else "—"


def person_summary(person: Person, t: Translator) -> str:
    quiet = esc(f"{person.quiet_start}–{person.quiet_end}") if person.quiet_start and person.quiet_end else t._("none")
    phone = t._("{phone} (seen only by coordinators)", phone=esc(person.phone)) if person.phone else t._("not shared")
    lines = [
        t._("<b>Your details</b>"),
        t._("Name: {name}", name=esc(person.name or "—")),
        t._("Where: {place}", place=place_line(person, t)),
        t._("Skills: {skills}", skills=skills_line(person.skills, t)),
        t._("Available: {when}", when=t._(AVAILABILITY_LABELS[person.availability]) if person.availability else "—"),
        t._("Quiet hours: {hours}", hours=quiet),
        t._("Phone: {phone}", phone=phone),
        t._("Language: {language}", language=language_name(person.language)),
    ]
    if person.paused:
        if person.paused_until:
            lines.append(t._("⏸ Alerts paused until {date}", date=t.date_only(person.paused_until)))
        else:
            lines.append(t._("⏸ Alerts paused until you /resume"))
    return "\n".join(lines)


def scope_text(scope: Scope, t: Translator) -> str:
    """Where an organisation or coordinator may send alerts, by name ("everywhere" when anywhere)."""
    if scope.everywhere:
        return t._("everywhere")
    areas = [municipality_name(m, t) for m in places.municipalities() if m.atvk in scope.areas]
    abroad = [t._("anywhere abroad") if c == ALL_ABROAD else t.country(c) for c in scope.countries]
    parts = [", ".join(areas)] if areas else []
    if abroad:
        parts.append(t._("abroad: {countries}", countries=", ".join(abroad)))
    return "; ".join(parts)


ORGANISATION_LABEL = 24  # an organisation's name in a button: at most this many characters


def organisation_label(name: str) -> str:
    """An organisation's name, short enough for a button."""
    return name if len(name) <= ORGANISATION_LABEL else name[: ORGANISATION_LABEL - 1].rstrip() + "…"


def organisation_names(reach: Reach) -> str:
    return esc(", ".join(m.organisation.name for m in reach.memberships))


def reach_lines(reach: Reach, t: Translator) -> list[str]:
    """Which organisations can call the person, for their profile."""
    if reach.shared_pool:
        return [t._("Organisations: none, so every coalition organisation can reach you")]
    allowed = t._("yes") if reach.open_to_coalition else t._("no")
    return [
        t._("Your organisations: {organisations}", organisations=organisation_names(reach)),
        t._("Other organisations in the coalition may call me: {allowed}", allowed=allowed),
    ]


def reach_view(reach: Reach, t: Translator) -> str:
    """/profile's organisations: who can call the person and who sees their phone number."""
    lines = [t._("<b>Who can reach you</b>")]
    if reach.shared_pool:
        lines.append(t._("You belong to no organisation, so every coalition organisation can reach you."))
        return "\n".join(lines)
    lines.append(t._("The coordinators of your organisations can send you alerts:"))
    for m in reach.memberships:
        seen = (
            t._("sees your phone number in its exports") if m.phone_visible else t._("does not see your phone number")
        )
        lines.append(f"• {esc(m.organisation.name)}: {seen}")
    lines.append("")
    if reach.open_to_coalition:
        lines.append(t._("The coalition's other organisations may send you alerts too."))
    else:
        lines.append(t._("The coalition's other organisations may not send you alerts."))
    return "\n".join(lines)
