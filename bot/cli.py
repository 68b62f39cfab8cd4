"""The command-line tasks other than running the bot: migrations, backups, volunteer lists, alerts."""

from __future__ import annotations

import asyncio
import csv
import sys
from pathlib import Path
from typing import TextIO

from bot.domain.alerts import write_export_csv
from bot.domain.coalition import IMPORTED_PHONE_VISIBLE
from bot.domain.languages import DEFAULT_LANGUAGE
from bot.domain.people import LATVIA, Address, LocationKind, Person, PersonStatus
from bot.domain.volunteer_csv import VolunteerRecord, parse_volunteer_csv, write_volunteer_csv
from bot.i18n import language_codes
from bot.settings import Settings
from db.alerts import AlertRepo
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


def person_to_record(p: Person) -> VolunteerRecord:
    return VolunteerRecord(
        telegram_id=int(p.address.external_id),
        name=p.name or "",
        language=p.language,
        skills=list(p.skills),
        municipality=p.municipality,
        country=p.country or LATVIA,
        city=p.city,
        phone=p.phone,
        organisations=list(p.organisations),
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
    finally:
        await db.close()
    write_volunteer_csv((person_to_record(p) for p in people), out)
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
        write_export_csv(await repo.export_rows(alert_id), out)
    finally:
        await db.close()
    return 0
