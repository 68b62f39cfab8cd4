"""/audit: the latest entries of the audit trail, for admins (the whole coalition's) and
organisation admins (their organisation's); the command line has the whole trail."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.application.audit import Audit, Recent
from bot.application.identity import Identity
from bot.domain.audit import AuditEntry
from bot.i18n import N_, Translator
from bot.logs import event
from handlers.base import App, coordinator, esc, message_of

log = logging.getLogger(__name__)

DETAILS_CHARS = 120  # an entry's counts on one line at most this long


def details_text(details: str) -> str:
    """``{"rows": 3, "created": 1}`` as ``rows=3, created=1`` (cut when long)."""
    try:
        parsed = json.loads(details)
    except ValueError:
        parsed = details
    text = ", ".join(f"{k}={v}" for k, v in parsed.items()) if isinstance(parsed, dict) else str(parsed)
    return text if len(text) <= DETAILS_CHARS else text[: DETAILS_CHARS - 1] + "…"


def entry_line(e: AuditEntry, t: Translator, *, with_organisation: bool) -> str:
    """One entry: when (Riga time), who (id and role, or the role alone), what, to what, counts."""
    role = f"{e.role}, {e.organisation}" if with_organisation and e.organisation else e.role
    who = f"{e.actor} ({role})" if e.actor else role
    parts = [esc(t.datetime(datetime.fromisoformat(e.at))), esc(who), f"<b>{esc(e.action)}</b>"]
    counts = details_text(e.details)
    parts += [esc(p) for p in (e.target, counts) if p]
    return " · ".join(parts)


def audit_text(recent: Recent, t: Translator) -> str:
    organisation = recent.organisation
    n = len(recent.entries)
    if n == 0:
        if organisation is None:
            return t._("The audit trail has no entries yet.")
        return t._("The audit trail of {organisation} has no entries yet.", organisation=esc(organisation.name))
    if organisation is None:
        heading = t.n_("<b>Audit trail: the latest {n} entry</b>", "<b>Audit trail: the latest {n} entries</b>", n)
    else:
        heading = t.n_(
            "<b>Audit trail of {organisation}: the latest {n} entry</b>",
            "<b>Audit trail of {organisation}: the latest {n} entries</b>",
            n,
            organisation=esc(organisation.name),
        )
    lines = [heading, t._("Newest last, times in Riga time.")]
    lines += [entry_line(e, t, with_organisation=organisation is None) for e in recent.entries]
    return "\n".join(lines)


class AuditHandlers:
    def __init__(self, identity: Identity, audit: Audit) -> None:
        self.identity = identity
        self.audit = audit

    async def audit_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await coordinator(self.identity, update, N_("Sorry, this is for coordinators only."))
        if w is None:
            return
        assert w.actor is not None, "set by coordinator()"
        recent = await self.audit.recent(w.actor)
        if recent is None:
            event(log, "audit_refused", user=w.address.external_id, role=w.actor.role)
            await message_of(update).reply_text(w.t._("Sorry, /audit is for admins and organisation admins."))
            return
        event(
            log,
            "audit_shown",
            user=w.address.external_id,
            organisation=w.actor.organisation_code,
            entries=len(recent.entries),
        )
        await message_of(update).reply_text(audit_text(recent, w.t), parse_mode="HTML")


def register(app: App, identity: Identity, audit: Audit) -> None:
    h = AuditHandlers(identity, audit)
    app.add_handler(CommandHandler("audit", h.audit_command, filters=filters.ChatType.PRIVATE))
