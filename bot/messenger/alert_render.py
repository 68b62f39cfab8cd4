"""How alerts look: the recipient's message (in their language and time zone), the
coordinator's preview and live tracking message."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from telegram import InlineKeyboardMarkup

from bot.application.composer import send_data
from bot.domain import places, skills
from bot.domain.alerts import (
    Alert,
    AlertDraft,
    Audience,
    DraftRef,
    Problem,
    Response,
    RosterChange,
    RosterChangeKind,
    RosterEntry,
    Severity,
    Tally,
    delivery_seconds,
)
from bot.domain.people import ALL_ABROAD, LATVIA_TZ
from bot.domain.quota import still_needed
from bot.domain.verification import is_verify_code, verify_command
from bot.i18n import N_, Translator, language_codes, translator
from bot.messenger.keyboards import inline
from bot.messenger.render import municipality_name

esc = html.escape

SEVERITY_LABELS = {
    Severity.INFO: ("🔵", N_("Information")),
    Severity.URGENT: ("🟠", N_("URGENT")),
    Severity.CRITICAL: ("🔴", N_("CRITICAL")),
}
ANSWER_LABELS: dict[str, str] = {
    Response.ACCEPTED: N_("✅ You are confirmed. Thank you! Details will follow here."),
    Response.STANDBY: N_(
        "⏳ You are on standby: enough people have answered for now. I will tell you if you are needed."
    ),
    Response.DECLINED: N_("❌ You answered that you can't help this time. Thank you for letting us know."),
}
ETA_LABELS = {"30m": N_("within 30 minutes"), "2h": N_("within 2 hours")}


def heading(draft: AlertDraft, t: Translator) -> str:
    icon, label = SEVERITY_LABELS[draft.severity]
    line = f"{icon} <b>{t._(label)}</b>"
    if draft.drill:
        line = t._("🧪 EXERCISE, not a real emergency") + "\n" + line
    return line


def sender_line(author_name: str, organisation: str, t: Translator) -> str:
    if organisation:
        return t._("From: {name}, {organisation}", name=esc(author_name), organisation=esc(organisation))
    return t._("From: {name}", name=esc(author_name))


def when_in(moment: datetime, t: Translator, tz: str, *, always: bool = False) -> str:
    """A time in the reader's zone, naming the zone when it is not Riga's ("21:30, Dublin
    time"), or always (the preview: "23:30, Riga time")."""
    shown = t.datetime(moment, tz)
    if tz == LATVIA_TZ and not always:
        return shown
    return t._("{time}, {place} time", time=shown, place=places.timezone_label(tz, t.lang))


PREVIEW_CODE = "······"  # where the preview shows the code an alert gets when it is sent


def verify_line(code: str, t: Translator) -> str:
    """How anyone checks the alert: ``/verify_K7Q2PX``, a command Telegram makes clickable (the
    preview's ``PREVIEW_CODE`` is shown as code, so it is not one)."""
    command = verify_command(code) if is_verify_code(code) else f"<code>{esc(verify_command(code))}</code>"
    return t._("🔐 Is it genuine? Check: {command}", command=command)


def alert_body(
    draft: AlertDraft,
    author_name: str,
    organisation: str,
    t: Translator,
    tz: str,
    alert_id: int | None = None,
    verify_code: str | None = None,
) -> str:
    """``verify_code``: the alert's (``PREVIEW_CODE`` in the preview; None: an alert sent before
    alerts had codes, which gets no verification line)."""
    lines = [heading(draft, t)]
    if alert_id is not None:
        lines[-1] += f" · #{alert_id}"
    lines.append(sender_line(author_name, organisation, t))
    lines.append("")
    lines.append(esc(draft.text_for(t.lang)))
    if draft.respond_by is not None:
        lines.append("")
        lines.append(t._("⏰ Please answer by {time}", time=when_in(draft.respond_by, t, tz)))
    if verify_code is not None:
        lines.append("")
        lines.append(verify_line(verify_code, t))
    return "\n".join(lines)


def recipient_text(
    alert: Alert,
    t: Translator,
    tz: str,
    *,
    response: str | None = None,
    eta: str | None = None,
    closed: bool = False,
    reminder: bool = False,
) -> str:
    text = alert_body(alert.draft, alert.author_name, alert.organisation, t, tz, alert.id, alert.verify_code)
    if reminder:
        text = t._("🔔 Reminder: you have not answered yet.") + "\n\n" + text
    if response in ANSWER_LABELS:
        text += "\n\n" + t._(ANSWER_LABELS[response])
        if response == Response.ACCEPTED and eta in ETA_LABELS:
            text += " " + t._("You expect to be there {eta}.", eta=t._(ETA_LABELS[eta]))
    if closed:
        text += "\n\n" + t._("🔒 This alert is closed. Thank you!")
    return text


def answer_keyboard(alert_id: int, t: Translator) -> InlineKeyboardMarkup:
    return _answer_keyboard(alert_id, t.lang)


def answer_keyboard_json(alert_id: int, t: Translator) -> str:
    """The same keyboard serialised once, for ``messenger.raw.edit_text``."""
    return _answer_keyboard_json(alert_id, t.lang)


@lru_cache(maxsize=512)
def _answer_keyboard_json(alert_id: int, lang: str) -> str:
    return _answer_keyboard(alert_id, lang).to_json()


@lru_cache(maxsize=512)
def _answer_keyboard(alert_id: int, lang: str) -> InlineKeyboardMarkup:  # immutable, so shareable
    t = translator(lang)
    return inline(
        [
            [(t._("✅ I can help"), f"ans:{alert_id}:yes")],
            [(t._("🕐 In 30 min"), f"ans:{alert_id}:30m"), (t._("🕑 In 2 hours"), f"ans:{alert_id}:2h")],
            [(t._("❌ I can't"), f"ans:{alert_id}:no")],
        ]
    )


def audience_lines(audience: Audience, t: Translator, rate: float) -> str:
    n = len(audience.recipients)
    if n == 0:
        lines = [t._("👥 No one will receive it")]
    else:
        by_lang = Counter(p.language for p in audience.recipients)
        counts = ", ".join(f"{code} {by_lang[code]}" for code in language_codes())
        lines = [t.n_("👥 {n} person will receive it", "👥 {n} people will receive it", n) + f" ({counts})"]
    left = []
    if audience.paused:
        left.append(t.n_("{n} paused", "{n} paused", audience.paused))
    if audience.blocked:
        left.append(t.n_("{n} blocked the bot", "{n} blocked the bot", audience.blocked))
    if audience.quiet:
        left.append(t.n_("{n} in quiet hours", "{n} in quiet hours", audience.quiet))
    if audience.out_of_scope:  # the coalition's rule: outside the sender's scope, or another organisation's member
        left.append(
            t.n_(
                "{n} outside your scope or organisation",
                "{n} outside your scope or organisation",
                audience.out_of_scope,
            )
        )
    if left:
        lines.append(t._("Left out: {list}", list=", ".join(left)))
    if n:  # an empty audience gets no delivery estimate
        lines.append(
            t._(
                "⏱ Delivery takes about {duration} at {rate} messages a second.",
                duration=duration(delivery_seconds(n, rate), t),
                rate=f"{rate:g}",
            )
        )
    return "\n".join(lines)


def count_line(audience: Audience, t: Translator) -> str:
    """The live count of the composer's lists: one line."""
    n = len(audience.recipients)
    if n == 0:
        return t._("👥 No one would receive it now.")
    return t.n_("👥 {n} person would receive it now.", "👥 {n} people would receive it now.", n)


def place_names(draft: AlertDraft, t: Translator) -> list[str]:
    a = draft.audience
    areas = [municipality_name(m, t) for m in places.municipalities() if m.atvk in a.areas]
    abroad = [t._("everyone abroad") if c == ALL_ABROAD else t.country(c) for c in a.countries]
    return areas + abroad


def named_places(areas: Iterable[str], countries: Iterable[str], t: Translator) -> list[str]:
    """Municipalities (ATVK codes) and countries abroad (ISO codes, ``*``: everyone abroad) by
    name in ``t``'s language, in the order given."""
    names = []
    for atvk in areas:
        m = places.municipality(atvk)
        names.append(municipality_name(m, t) if m is not None else atvk)
    return names + [t._("everyone abroad") if c == ALL_ABROAD else t.country(c) for c in countries]


def definition_lines(draft: AlertDraft, t: Translator, tz: str = LATVIA_TZ, notes: Sequence[Problem] = ()) -> list[str]:
    """Whom the draft is for and how it is sent, in full: areas and countries (names),
    skills (labels), languages, severity, need, respond-by with its time zone, the exercise
    mark; ``notes`` from the one-line form (a state city and its novads both included)."""
    a = draft.audience
    where = place_names(draft, t)
    skill_names = [t._(s.label) for s in skills.skills() if s.code in a.skills]
    icon, label = SEVERITY_LABELS[draft.severity]
    lines = [
        t._("Where: {place}", place=esc(", ".join(where)) or t._("anywhere")),
        t._("Skills: {skills}", skills=esc(", ".join(skill_names)) or t._("any")),
        t._("Languages: {langs}", langs=", ".join(t.language(code) for code in a.langs) or t._("all")),
        t._("Severity: {severity}", severity=f"{icon} {t._(label)}"),
        t.n_("Needed: {n} person", "Needed: {n} people", draft.need) if draft.need else t._("Needed: {need}", need="—"),
        t._("Answer by: {time}", time=when_in(draft.respond_by, t, tz, always=True) if draft.respond_by else "—"),
        t._("Drill: {drill}", drill=t._("yes") if draft.drill else t._("no")),
    ]
    for note in notes:
        if note.code == "twins":
            city, novads = places.municipality(note.values["city"]), places.municipality(note.values["municipality"])
            assert city is not None and novads is not None
            lines.append(
                t._(
                    "ℹ️ “{name}” is both the state city {city} and {municipality}: both are included.",
                    name=esc(note.values["value"]),
                    city=municipality_name(city, t),
                    municipality=municipality_name(novads, t),
                )
            )
    return lines


def duration(seconds: float, t: Translator) -> str:
    if seconds < 90:
        s = max(1, round(seconds))
        return t.n_("{n} second", "{n} seconds", s)
    m = round(seconds / 60)
    return t.n_("{n} minute", "{n} minutes", m)


def preview_texts(
    draft: AlertDraft,
    audience: Audience,
    author_name: str,
    organisation: str,
    t: Translator,
    tz: str,
    rate: float,
    notes: list[Problem] | None = None,
) -> list[str]:
    """The preview: the alert in every language its recipients read (with their answer
    buttons, as text), then whom it is for (the definition) and the audience. One message
    when it fits, else one per language and the summary last."""
    present = {p.language for p in audience.recipients}
    langs: list[str] = [lang for lang in language_codes() if lang in present] or [t.lang]
    bodies = [
        alert_body(draft, author_name, organisation, translator(lang), tz, verify_code=PREVIEW_CODE)
        + "\n"
        + buttons_line(lang)
        for lang in langs
    ]
    summary = [
        t._("<b>Who gets it</b>"),
        *definition_lines(draft, t, tz, notes or []),
        audience_lines(audience, t, rate),
    ]
    single = "\n".join(
        [t._("<b>Preview</b>: this is what recipients will see."), *(f"{RULE}\n{b}" for b in bodies), RULE, *summary]
    )
    if len(single.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT:
        return [single]
    return [*bodies, "\n".join([t._("<b>Preview</b>: the messages above are what recipients will see."), *summary])]


RULE = "┄┄┄┄┄┄┄┄"
MESSAGE_LIMIT = 4096  # Telegram's, in UTF-16 code units (tags counted too, so on the safe side)


def buttons_line(lang: str) -> str:
    return " ".join(
        f"[{label}]" for row in _answer_keyboard(0, lang).inline_keyboard for label in (b.text for b in row)
    )


def preview_keyboard(ref: DraftRef, n: int, t: Translator) -> InlineKeyboardMarkup:
    """Send carries its draft (``send_data``): it sends exactly what its preview shows."""
    return inline(
        [
            [(t.n_("🚀 Send to {n} person", "🚀 Send to {n} people", n), send_data(ref, n))],
            [(t._("✏️ Edit"), "cmp:menu"), (t._("✖️ Cancel"), "cmp:cancel")],
        ]
    )


def bar(part: int, whole: int, width: int = 10) -> str:
    if whole <= 0:
        return "░" * width
    filled = round(width * min(part, whole) / whole)
    return "▓" * filled + "░" * (width - filled)


ROSTER_SHOWN = 15  # names per list in the tracking message; /roster has them all


def eta_label(entry: RosterEntry, t: Translator) -> str:
    if entry.response != Response.ACCEPTED:
        return ""
    return t._(ETA_LABELS[entry.eta]) if entry.eta in ETA_LABELS else t._("now")


def names_lines(alert: Alert, roster: Sequence[RosterEntry], t: Translator) -> list[str]:
    """Who is coming (with their ETA) and who is on standby, the first ``ROSTER_SHOWN`` of each."""
    lines: list[str] = []
    for response, title in (
        (Response.ACCEPTED, N_("✅ Confirmed:")),
        (Response.STANDBY, N_("⏳ On standby:")),
    ):
        people = [e for e in roster if e.response == response]
        if not people:
            continue
        lines.append(t._(title))
        for e in people[:ROSTER_SHOWN]:
            eta = eta_label(e, t)
            lines.append(f"• {esc(e.name)}" + (f" — {eta}" if eta else ""))
        if len(people) > ROSTER_SHOWN:
            lines.append(t._("+{n} more: /roster {id}", n=len(people) - ROSTER_SHOWN, id=alert.id))
    return lines


def tracking_text(
    alert: Alert,
    tally: Tally,
    t: Translator,
    tz: str,
    now: datetime | None = None,
    roster: Sequence[RosterEntry] = (),
    *,
    held_up_since: float | None = None,
) -> str:
    """``held_up_since``: delivery is held up since then (``time.time()`` seconds), Telegram
    being unreachable; a line says so while messages are waiting."""
    d = alert.draft
    first_line = d.text_for(t.lang).strip().splitlines()[0] if d.text_for(t.lang).strip() else ""
    snippet = first_line[:60] + ("…" if len(first_line) > 60 else "")
    lines = [heading(d, t) + f" · #{alert.id}", esc(snippet), ""]
    done = tally.sent + tally.failed + tally.blocked
    lines.append(t._("📤 Delivery {bar} {done}/{total}", bar=bar(done, tally.total), done=done, total=tally.total))
    lines.append(
        t._(
            "sent {sent} · queued {queued} · failed {failed} · blocked {blocked}",
            sent=tally.sent,
            queued=tally.queued,
            failed=tally.failed,
            blocked=tally.blocked,
        )
    )
    if held_up_since is not None and tally.queued:
        since = t.time(datetime.fromtimestamp(held_up_since, UTC), tz)
        lines.append(
            t.n_(
                "⚠️ Telegram unreachable since {time} — {n} waiting, retrying",
                "⚠️ Telegram unreachable since {time} — {n} waiting, retrying",
                tally.queued,
                time=since,
            )
        )
    if d.need:
        lines.append(
            t._(
                "🙋 Accepted {bar} {accepted}/{need}",
                bar=bar(tally.accepted, d.need),
                accepted=tally.accepted,
                need=d.need,
            )
        )
        missing = still_needed(d.need, tally.accepted)
        if missing == 0:
            lines.append(t._("✅ Everyone needed has been found."))
        else:
            lines.append(t.n_("Still needed: {n}", "Still needed: {n}", missing or 0))
    else:
        lines.append(
            t._("🙋 Accepted {bar} {accepted}", bar=bar(tally.accepted, max(tally.sent, 1)), accepted=tally.accepted)
        )
    lines.append(
        t._(
            "accepted {accepted} · declined {declined} · standby {standby} · no answer {none}",
            accepted=tally.accepted,
            declined=tally.declined,
            standby=tally.standby,
            none=tally.none,
        )
    )
    if d.respond_by is not None:
        lines.append(t._("⏰ Answers by {time}", time=when_in(d.respond_by, t, tz)))
    names = names_lines(alert, roster, t)
    if names:
        lines += ["", *names]
    if not alert.open:
        lines.append("")
        lines.append(t._("🔒 Closed."))
    return "\n".join(lines)


def tracking_keyboard(alert: Alert, t: Translator) -> InlineKeyboardMarkup | None:
    """A closed alert's tracking messages have no buttons (/export still works)."""
    if not alert.open:
        return None
    return inline(
        [
            [
                (t._("🔔 Remind the silent"), f"trk:remind:{alert.id}"),
                (t._("📨 Follow-up"), f"trk:followup:{alert.id}"),
            ],
            [(t._("🔒 Close"), f"trk:close:{alert.id}"), (t._("📄 Export"), f"trk:export:{alert.id}")],
        ]
    )


def roster_change_text(alert: Alert, change: RosterChange, t: Translator) -> str:
    if change.kind == RosterChangeKind.WITHDREW:
        return t._("↩️ #{id}: {name} can't come after all.", id=alert.id, name=esc(change.name))
    return t._("⬆️ #{id}: {name} moved up from standby and is confirmed.", id=alert.id, name=esc(change.name))


RESPONSE_LABELS = {
    Response.ACCEPTED: N_("confirmed"),
    Response.STANDBY: N_("on standby"),
    Response.DECLINED: N_("can't come"),
}


def roster_texts(alert: Alert, roster: Sequence[RosterEntry], t: Translator, tz: str = LATVIA_TZ) -> list[str]:
    """``/roster``: everyone who answered, with answer, ETA, time answered, phone where shared
    and a link to their chat; in messages that fit Telegram's limit."""
    if not roster:
        return [t._("No one has answered alert #{id} yet.", id=alert.id)]
    lines = [t.n_("<b>Alert #{id}</b>: {n} answer", "<b>Alert #{id}</b>: {n} answers", len(roster), id=alert.id)]
    for e in roster:
        parts = [f"<b>{esc(e.name)}</b>", t._(RESPONSE_LABELS[e.response])]
        eta = eta_label(e, t)
        if eta:
            parts.append(eta)
        if e.responded_at is not None:
            parts.append(t._("answered {time}", time=t.time(e.responded_at, tz)))
        if e.phone:
            parts.append(esc(e.phone))
        if e.address.channel == "telegram" and e.address.external_id.isdigit():
            parts.append(f'<a href="tg://user?id={e.address.external_id}">{t._("chat")}</a>')
        lines.append(" · ".join(parts))
    texts, current = [], ""
    for line in lines:
        if current and len((current + "\n" + line).encode("utf-16-le")) // 2 > MESSAGE_LIMIT - 100:
            texts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    texts.append(current)
    return texts


def deadline_text(alert: Alert, tally: Tally, t: Translator) -> str:
    """Told to the alert's author when its answer time is over."""
    need = f"/{alert.draft.need}" if alert.draft.need else ""
    return t._(
        "⏰ The answer time of alert #{id} is over: {accepted}{need} accepted, {none} did not answer. /close {id} closes it.",
        id=alert.id,
        accepted=tally.accepted,
        need=need,
        none=tally.none,
    )
