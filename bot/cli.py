"""The command-line tasks other than running the bot: migrations, backups, volunteer lists, alerts,
the coalition's organisations and coordinators, and the audit trail. Exports, imports and changes
to organisations and coordinators are recorded in the audit trail (as the operator)."""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.application.audit import Audit
from bot.application.coalition import Coalition, Refusal, Refused
from bot.domain import places
from bot.domain.alerts import write_export_csv
from bot.domain.audit import AuditAction, AuditQuery, AuditRole, write_audit_csv
from bot.domain.coalition import IMPORTED_PHONE_VISIBLE, ORG_NAME_MAX, Scope, StoredRole, granted_scope, valid_org_code
from bot.domain.languages import DEFAULT_LANGUAGE
from bot.domain.people import LATVIA, Address, LocationKind, Person, PersonStatus
from bot.domain.places.timezones import LATVIA_TZ
from bot.domain.scopes import PlaceKind, UnknownPlace, read_scope
from bot.domain.spreadsheet import neutralise
from bot.domain.volunteer_csv import VolunteerRecord, parse_volunteer_csv, write_volunteer_csv
from bot.i18n import language_codes, translator
from bot.messenger.render import scope_text
from bot.services import coalition_on
from bot.settings import Settings
from db.alerts import AlertRepo
from db.audit import AuditRepo
from db.backup import BackupError, backup, restore
from db.database import Database
from db.memberships import MembershipRepo
from db.migrate import migrate
from db.organisations import OrganisationRepo
from db.people import PeopleRepo


async def _open(settings: Settings) -> Database:
    db = await Database(settings.database.path).open()
    await migrate(db)
    return db


def _audit(db: Database) -> Audit:
    return Audit(AuditRepo(db))


async def migrate_command(settings: Settings) -> int:
    db = await Database(settings.database.path).open()
    try:
        applied = await migrate(db)
    finally:
        await db.close()
    print(f"database {settings.database.path}: {len(applied)} migration(s) applied, up to date")
    return 0


async def backup_command(settings: Settings, target: Path, *, force: bool = False, out: TextIO = sys.stdout) -> int:
    """``sauciens backup FILE``: safe while the bot runs (SQLite's online backup API)."""
    try:
        summary = await backup(settings.database.path, target, force=force)
    except BackupError as exc:
        print(f"sauciens: backup not written: {exc}", file=sys.stderr)
        return 1
    first, *rest = summary.lines()
    print(f"backup written: {first}", file=out)
    for line in rest:
        print(line, file=out)
    return 0


async def restore_command(settings: Settings, source: Path, out: TextIO = sys.stdout) -> int:
    """``sauciens restore FILE``: refused while a bot runs on the database (``DatabaseInUse``)."""
    try:
        summary = await restore(source, settings.database.path)
    except BackupError as exc:
        print(f"sauciens: nothing restored: {exc}", file=sys.stderr)
        return 1
    first, *rest = summary.lines()
    print(f"restored {source} as {first}", file=out)
    for line in rest:
        print(line, file=out)
    print(f"{summary.migrated} migration(s) applied; queued messages are sent when the bot starts", file=out)
    return 0


def record_to_person(r: VolunteerRecord) -> Person:
    abroad = r.country != LATVIA
    return Person(
        id=0,
        address=Address.telegram(r.telegram_id),
        status=PersonStatus.ACTIVE,
        language=r.language,
        name=r.name,
        location_kind=LocationKind.ABROAD if abroad else LocationKind.LV,
        municipality=r.municipality,
        country=r.country,
        city=r.city,
        timezone=r.timezone,
        skills=tuple(r.skills),
        phone=r.phone,
        source="import",
    )


def person_to_record(p: Person, codes: Mapping[int, str]) -> VolunteerRecord:
    """``codes``: every organisation's code, by id."""
    return VolunteerRecord(
        telegram_id=int(p.address.external_id),
        name=p.name or "",
        language=p.language,
        skills=list(p.skills),
        municipality=p.municipality,
        country=p.country or LATVIA,
        city=p.city,
        phone=p.phone,
        organisations=sorted((codes[i] for i in p.organisations), key=str.lower),
        timezone=p.timezone,
    )


async def import_volunteers(settings: Settings, path: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """All or nothing: the whole file is read and every row checked before the first write, so
    a list with any invalid row (an unknown organisation's code too) changes nothing. A valid
    list is then written in short transactions (``PeopleRepo.import_people``), so a running bot
    keeps answering and writing meanwhile; people see the list arrive in batches, and should a
    write fail (a full disk) the same file can simply be imported again.

    The ``organisation`` column's codes become the volunteers' memberships (source import):
    the organisations that gave their numbers may see them (``IMPORTED_PHONE_VISIBLE``), a
    membership the list no longer has goes, and an organisation a volunteer left in the bot is
    not joined again (``MembershipRepo.import_lists``)."""
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        print(f"sauciens: cannot read {path}: {exc.strerror}", file=err)
        return 1
    db = await _open(settings)
    try:
        organisations = {o.code: o.id for o in await OrganisationRepo(db).all()}
        records, errors = parse_volunteer_csv(data, languages=language_codes(), organisations=organisations)
        if errors:
            for e in errors:
                print(f"{path}:{e.line}: {e.message}", file=err)
            print(f"sauciens: {len(errors)} invalid row(s); nothing was imported", file=err)
            return 1
        created, updated = await PeopleRepo(db).import_people(record_to_person(r) for r in records)
        joined = await MembershipRepo(db).import_lists(
            {Address.telegram(r.telegram_id): [organisations[c] for c in r.organisations] for r in records},
            phone_visible=IMPORTED_PHONE_VISIBLE,
        )
        await _audit(db).record_as(
            AuditRole.OPERATOR,
            AuditAction.VOLUNTEERS_IMPORTED,
            "volunteers",
            created=created,
            updated=updated,
            memberships_added=joined.added,
            memberships_removed=joined.removed,
        )
    finally:
        await db.close()
    print(f"imported {len(records)} volunteer(s): {created} new, {updated} updated", file=out)
    if joined.added or joined.removed:
        print(f"memberships: {joined.added} added, {joined.removed} removed", file=out)
    if joined.not_restored:
        print(
            f"{joined.not_restored} membership(s) not restored: the volunteer left that organisation in the bot",
            file=out,
        )
    return 0


async def export_volunteers(settings: Settings, out: TextIO) -> int:
    db = await _open(settings)
    try:
        people = [p for p in await PeopleRepo(db).all() if p.status == "active" and p.address.channel == "telegram"]
        codes = {o.id: o.code for o in await OrganisationRepo(db).all()}
        write_volunteer_csv((person_to_record(p, codes) for p in people), out)
        await _audit(db).record_as(AuditRole.OPERATOR, AuditAction.EXPORT, "volunteers", rows=len(people))
    finally:
        await db.close()
    return 0


async def list_alerts(settings: Settings, out: TextIO) -> int:
    db = await _open(settings)
    try:
        repo = AlertRepo(db)
        alerts = await repo.list(limit=1000)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [
                "id",
                "created_at",
                "status",
                "severity",
                "drill",
                "need",
                "recipients",
                "sent",
                "accepted",
                "standby",
                "declined",
                "no_answer",
                "text",
            ]
        )
        for a in alerts:
            t = await repo.tally(a.id)
            writer.writerow(
                [
                    a.id,
                    a.created_at.isoformat(timespec="seconds"),
                    a.status,
                    a.draft.severity,
                    "yes" if a.draft.drill else "no",
                    a.draft.need or "",
                    t.total,
                    t.sent,
                    t.accepted,
                    t.standby,
                    t.declined,
                    t.none,
                    " ".join(a.draft.text_for(DEFAULT_LANGUAGE).split())[:60],
                ]
            )
    finally:
        await db.close()
    return 0


async def export_alert(settings: Settings, alert: str, out: TextIO, err: TextIO = sys.stderr) -> int:
    db = await _open(settings)
    try:
        repo = AlertRepo(db)
        if alert == "latest":
            alert_id = await repo.latest_id()
            if alert_id is None:
                print("sauciens: there are no alerts yet", file=err)
                return 1
        elif alert.lstrip("#").isdigit():
            alert_id = int(alert.lstrip("#"))
        else:
            print(f"sauciens: {alert!r} is not an alert id (a number, or 'latest')", file=err)
            return 2
        if await repo.get(alert_id) is None:
            print(f"sauciens: there is no alert {alert_id}", file=err)
            return 1
        rows = await repo.export_rows(alert_id)
        write_export_csv(rows, out)
        await _audit(db).record_as(AuditRole.OPERATOR, AuditAction.EXPORT, f"alert:{alert_id}", rows=len(rows))
    finally:
        await db.close()
    return 0


# ----- the audit trail -------------------------------------------------------------------


def parse_since(value: str) -> datetime:
    """``--since``: a day (YYYY-MM-DD, from its midnight) or an ISO time; without an offset, in
    Riga time. ``ValueError`` for anything else."""
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(LATVIA_TZ))
    return moment.astimezone(UTC)


def audit_query(
    since: str | None, actor: str | None, action: str | None, organisation: str | None, err: TextIO
) -> AuditQuery | None:
    """The filters of ``audit``, or None after saying in one line what is wrong with one."""
    try:
        moment = parse_since(since) if since is not None else None
    except ValueError:
        print(f"sauciens: --since {since!r} is neither a date (YYYY-MM-DD) nor an ISO time", file=err)
        return None
    if actor is not None and not actor.isdigit():
        print(f"sauciens: --actor {actor!r} is not a Telegram id (a number)", file=err)
        return None
    if action is not None and action not in {a.value for a in AuditAction}:
        names = ", ".join(a.value for a in AuditAction)
        print(f"sauciens: --action {action!r} is not an audited action; they are: {names}", file=err)
        return None
    if organisation is not None and not valid_org_code(organisation):
        print(f"sauciens: --org {organisation!r} is not an organisation code (2-16 of A-Z, 0-9, _ and -)", file=err)
        return None
    return AuditQuery(since=moment, actor=actor, action=action, organisation=organisation)


async def audit_trail(
    settings: Settings,
    out: TextIO,
    *,
    since: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    organisation: str | None = None,
    err: TextIO = sys.stderr,
) -> int:
    """``sauciens audit``: the matching entries as CSV, oldest first; 2 for a bad filter."""
    query = audit_query(since, actor, action, organisation, err)
    if query is None:
        return 2
    db = await _open(settings)
    try:
        write_audit_csv(await _audit(db).entries(query), out)
    finally:
        await db.close()
    return 0


async def verify_audit(settings: Settings, out: TextIO = sys.stdout) -> int:
    """``sauciens audit verify``: 0 when the whole chain holds, 1 naming the first entry where it breaks."""
    db = await _open(settings)
    try:
        result = await _audit(db).verify()
    finally:
        await db.close()
    if result.broken is None:
        print(f"audit trail intact: {result.entries} {'entry' if result.entries == 1 else 'entries'}", file=out)
        return 0
    e = result.broken
    print(f"audit trail broken at entry {e.id} ({e.at}, {e.action})", file=out)
    return 1


# ----- the coalition: organisations and coordinators ------------------------------------------


_BAD_NAME = f"an organisation's name has 1 to {ORG_NAME_MAX} characters"


@asynccontextmanager
async def _opened_coalition(settings: Settings) -> AsyncIterator[Coalition]:
    """The coalition's use cases on the database, closed afterwards."""
    db = await _open(settings)
    try:
        yield coalition_on(db, settings.access.admin_ids)
    finally:
        await db.close()


def _place_problem(problem: UnknownPlace) -> str:
    if problem.kind == PlaceKind.AREA:
        names = [m.name_lv for code in problem.suggestions if (m := places.municipality(code)) is not None]
        line = f"unknown municipality {problem.value!r} (an ATVK code or a name)"
    else:
        names = list(problem.suggestions)
        line = f"unknown country {problem.value!r} (an ISO code or a name, * for all abroad; not Latvia)"
    return line + (f"; did you mean {', '.join(names)}?" if names else "")


def _read_scope(areas: list[str], countries: list[str], err: TextIO) -> Scope | None:
    reading = read_scope(areas, countries, language_codes())
    for problem in reading.unknown:
        print(f"sauciens: {_place_problem(problem)}", file=err)
    return reading.scope


def _scope(scope: Scope) -> str:
    return scope_text(scope, translator("en"))


def _codes(values: tuple[str, ...]) -> str:
    return ";".join(values)


async def add_organisation(
    settings: Settings,
    code: str,
    name: str,
    areas: list[str],
    countries: list[str],
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """``orgs add CODE "Name" [--areas ...] [--countries ...]``."""
    scope = _read_scope(areas, countries, err)
    if scope is None:
        print("sauciens: nothing was added", file=err)
        return 2
    async with _opened_coalition(settings) as coalition:
        added = await coalition.add_organisation(code, name, scope)
    if isinstance(added, Refused):
        if added.reason == Refusal.BAD_CODE:
            print(f"sauciens: {code!r} is not an organisation code: 2 to 16 letters, digits, _ or -", file=err)
            return 2
        if added.reason == Refusal.BAD_NAME:
            print(f"sauciens: {_BAD_NAME}", file=err)
            return 2
        assert added.organisation is not None
        print(f"sauciens: organisation {added.organisation.code} exists already ({added.organisation.name})", file=err)
        return 1
    print(f"added organisation {added.code} ({added.name}); scope: {_scope(added.scope)}", file=out)
    return 0


async def rename_organisation(
    settings: Settings, code: str, name: str, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """``orgs rename CODE "New name"``."""
    async with _opened_coalition(settings) as coalition:
        renamed = await coalition.rename_organisation(code, name)
    if isinstance(renamed, Refused):
        if renamed.reason == Refusal.BAD_NAME:
            print(f"sauciens: {_BAD_NAME}; nothing was renamed", file=err)
            return 2
        print(f"sauciens: no organisation has the code {code!r} (orgs list shows them)", file=err)
        return 1
    organisation, old = renamed
    print(f"renamed organisation {organisation.code}: {old} -> {organisation.name}", file=out)
    return 0


async def list_organisations(settings: Settings, out: TextIO) -> int:
    """``orgs list``: CSV, one organisation a row, with how many coordinators it has."""
    async with _opened_coalition(settings) as coalition:
        organisations = await coalition.organisations()
        coordinators = await coalition.all_coordinators()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "areas", "countries", "coordinators"])
    for o in organisations:
        count = sum(1 for c in coordinators if c.organisation.id == o.id)
        writer.writerow([o.code, neutralise(o.name), _codes(o.scope.areas), _codes(o.scope.countries), count])
    return 0


async def add_coordinator(
    settings: Settings,
    telegram_id: int,
    organisation: str,
    role: str,
    areas: list[str],
    countries: list[str],
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """``coordinators add TELEGRAM_ID --org CODE [--role coordinator|orgadmin] [--areas ...] [--countries ...]``."""
    scope = _read_scope(areas, countries, err)
    if scope is None:
        print("sauciens: nothing was changed", file=err)
        return 2
    async with _opened_coalition(settings) as coalition:
        added = await coalition.add_coordinator(Address.telegram(telegram_id), organisation, StoredRole(role), scope)
        codes = [o.code for o in await coalition.organisations()]
    if isinstance(added, Refused):
        if added.reason == Refusal.NO_ORGANISATION:
            known = f"organisations: {', '.join(codes)}" if codes else "add one with: orgs add CODE NAME"
            print(f"sauciens: there is no organisation {organisation!r} ({known})", file=err)
        elif added.reason == Refusal.IS_ADMIN:
            print(f"sauciens: {telegram_id} is an admin (access.admin_ids) and may do everything already", file=err)
        else:
            assert added.organisation is not None and added.scope is not None
            print(
                f"sauciens: outside the scope of {added.organisation.code} ({_scope(added.scope)}); nothing was changed",
                file=err,
            )
        return 1
    c = added.coordinator
    where = _scope(granted_scope(c.scope, c.organisation))
    replaced = "" if added.new else " (their earlier role was replaced)"
    print(f"{telegram_id} is now {c.role.value} of {c.organisation.code}; scope: {where}{replaced}", file=out)
    return 0


async def list_coordinators(settings: Settings, out: TextIO) -> int:
    """``coordinators list``: CSV, organisation admins first within each organisation."""
    async with _opened_coalition(settings) as coalition:
        coordinators = await coalition.all_coordinators()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["telegram_id", "organisation", "role", "areas", "countries", "name", "added_by"])
    for c in coordinators:
        writer.writerow(
            [
                c.address.external_id,
                c.organisation.code,
                c.role.value,
                _codes(c.scope.areas),
                _codes(c.scope.countries),
                neutralise(c.name or ""),
                c.added_by or "",
            ]
        )
    return 0


async def revoke_coordinator(
    settings: Settings, telegram_id: int, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """``coordinators revoke TELEGRAM_ID``: at once, also for a bot that is running."""
    async with _opened_coalition(settings) as coalition:
        revoked = await coalition.revoke_coordinator(Address.telegram(telegram_id), None)
    if isinstance(revoked, Refused):
        if revoked.reason == Refusal.IS_ADMIN:
            print(f"sauciens: {telegram_id} is an admin: remove them from access.admin_ids instead", file=err)
        else:
            print(f"sauciens: {telegram_id} is not a coordinator", file=err)
        return 1
    print(f"revoked {telegram_id} ({revoked.role.value} of {revoked.organisation.code})", file=out)
    return 0
