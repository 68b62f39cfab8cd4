"""How alerts look: the recipient's message (in their language and time zone), the
coordinator's preview and live tracking message."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from functools import lru_cache

from telegram import InlineKeyboardMarkup

from bot.domain.alerts import Alert, AlertDraft, Audience, Response, Severity, Tally, delivery_seconds
from bot.domain.quota import still_needed
from bot.i18n import N_, Translator, translator
from bot.messenger.keyboards import inline

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


def alert_body(
    draft: AlertDraft, author_name: str, organisation: str, t: Translator, tz: str, alert_id: int | None = None
) -> str:
    lines = [heading(draft, t)]
    if alert_id is not None:
        lines[-1] += f" · #{alert_id}"
    lines.append(sender_line(author_name, organisation, t))
    lines.append("")
    lines.append(esc(draft.text_for(t.lang)))
    if draft.respond_by is not None:
        lines.append("")
        lines.append(t._("⏰ Please answer by {time}", time=t.datetime(draft.respond_by, tz)))
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
    text = alert_body(alert.draft, alert.author_name, alert.organisation, t, tz, alert.id)
    if reminder:
        text = t._("🔔 Reminder: you have not answered yet.") + "\n\n" + text
    if response in ANSWER_LABELS:
        text += "\n\n" + t._(ANSWER_LABELS[response])
        if response == Response.ACCEPTED and eta in ETA_LABELS:
            text += " " + t._("You expect to be there {eta}.", eta=t._(ETA_LABELS[eta]))
    if closed:
        text += "\n\n" + t._("🔒 This call is closed. Thank you!")
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
    by_lang: dict[str, int] = {"lv": 0, "en": 0}
    for p in audience.recipients:
        by_lang[p.language] = by_lang.get(p.language, 0) + 1
    lines = [
        t.n_("👥 {n} person will receive it", "👥 {n} people will receive it", n)
        + f" (lv {by_lang['lv']}, en {by_lang['en']})"
    ]
    left = []
    if audience.paused:
        left.append(t.n_("{n} paused", "{n} paused", audience.paused))
    if audience.blocked:
        left.append(t.n_("{n} blocked the bot", "{n} blocked the bot", audience.blocked))
    if audience.quiet:
        left.append(t.n_("{n} in quiet hours", "{n} in quiet hours", audience.quiet))
    if left:
        lines.append(t._("Left out: {list}", list=", ".join(left)))
    seconds = delivery_seconds(n, rate)
    lines.append(
        t._(
            "⏱ Delivery takes about {duration} at {rate} messages a second.",
            duration=duration(seconds, t),
            rate=f"{rate:g}",
        )
    )
    return "\n".join(lines)


def duration(seconds: float, t: Translator) -> str:
    if seconds < 90:
        s = max(1, round(seconds))
        return t.n_("{n} second", "{n} seconds", s)
    m = round(seconds / 60)
    return t.n_("{n} minute", "{n} minutes", m)


def preview_texts(
    draft: AlertDraft, audience: Audience, author_name: str, organisation: str, t: Translator, tz: str, rate: float
) -> list[str]:
    """The preview: the alert in every language its recipients read (with their answer
    buttons, as text), then the audience. One message when it fits, else one per language
    and the summary last."""
    present = {p.language for p in audience.recipients}
    langs: list[str] = [lang for lang in ("lv", "en") if lang in present] or [t.lang]
    bodies = [
        alert_body(draft, author_name, organisation, translator(lang), tz) + "\n" + buttons_line(lang) for lang in langs
    ]
    summary = [t.n_("Needed: {n} person", "Needed: {n} people", draft.need)] if draft.need else []
    summary.append(audience_lines(audience, t, rate))
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


def preview_keyboard(n: int, t: Translator) -> InlineKeyboardMarkup:
    return inline(
        [
            [(t.n_("🚀 Send to {n} person", "🚀 Send to {n} people", n), "cmp:send")],
            [(t._("✏️ Edit"), "cmp:menu"), (t._("✖️ Cancel"), "cmp:cancel")],
        ]
    )


def bar(part: int, whole: int, width: int = 10) -> str:
    if whole <= 0:
        return "░" * width
    filled = round(width * min(part, whole) / whole)
    return "▓" * filled + "░" * (width - filled)


def tracking_text(
    alert: Alert,
    tally: Tally,
    t: Translator,
    tz: str,
    now: datetime | None = None,
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
        lines.append(t._("⏰ Answers by {time}", time=t.datetime(d.respond_by, tz)))
    if not alert.open:
        lines.append(t._("🔒 Closed."))
    return "\n".join(lines)


def tracking_keyboard(alert: Alert, t: Translator) -> InlineKeyboardMarkup | None:
    if not alert.open:
        return inline([[(t._("📄 Export"), f"trk:export:{alert.id}")]])
    return inline(
        [
            [
                (t._("🔔 Remind the silent"), f"trk:remind:{alert.id}"),
                (t._("📨 Follow-up"), f"trk:followup:{alert.id}"),
            ],
            [(t._("🔒 Close"), f"trk:close:{alert.id}"), (t._("📄 Export"), f"trk:export:{alert.id}")],
        ]
    )


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
