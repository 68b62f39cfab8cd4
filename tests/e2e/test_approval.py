"""Two-person approval through the sandbox (issue 11): an alert to more than
``alerts.approval_above`` people, or a critical one, waits for a second person; the first
approval sends it as the author's, a rejection (with or without a reason) or the end of its
time closes it, every request holder then sees who decided, and forged decisions change nothing."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

import pytest

from bot.app import Sauciens
from bot.domain.coalition import Organisation, Scope, StoredRole
from bot.domain.people import Address
from bot.logs import EVENT, FIELDS
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.users import SimMessage, SimUser
from tests.conftest import COORDINATOR_ID
from tests.e2e.seed import Spec, alert_messages, seed
from tests.e2e.waits import eventually

SECOND_ADMIN = 9001
APPROVAL_ON = {"approval_above": 3, "approval_for_critical": True}  # five volunteers: every alert here waits
AUTHOR, COLLEAGUE, ORGADMIN, OUTSIDER = 501, 502, 503, 601


async def english(user: SimUser) -> SimUser:
    """A coordinator who has not registered chooses English (requests come in their language)."""
    await user.send("/language")
    await user.wait_for("Choose your language")
    await user.press("clang:en")
    await user.wait_for("Language: English")
    return user


async def add_coordinator(
    bot: Sauciens,
    sandbox: BotApiSandbox,
    uid: int,
    name: str,
    org: Organisation,
    role: StoredRole = StoredRole.COORDINATOR,
) -> SimUser:
    await bot.services.coordinators.put(Address.telegram(uid), org.id, role, Scope(), name=name)
    await bot.services.authorisation.refresh()
    return await english(sandbox.user(uid, name, language_code="en"))


class Coalition:
    """Two organisations: LSK (an author, a colleague, an organisation admin) and OGR (an
    outsider), two admins, and five volunteers in the shared pool."""

    def __init__(self, bot: Sauciens, sandbox: BotApiSandbox) -> None:
        self.bot, self.sandbox = bot, sandbox

    async def build(self) -> Coalition:
        bot, sandbox = self.bot, self.sandbox
        orgs = bot.services.organisations
        self.lsk = await orgs.add("LSK", "Liepājas Samariešu kopa", Scope())
        self.ogr = await orgs.add("OGR", "Ogres brīvprātīgie", Scope())
        self.volunteers = await seed(bot, sandbox, [Spec(i, f"V{i}", "en") for i in range(1, 6)])
        self.author = await add_coordinator(bot, sandbox, AUTHOR, "Anna", self.lsk)
        self.colleague = await add_coordinator(bot, sandbox, COLLEAGUE, "Baiba", self.lsk)
        self.orgadmin = await add_coordinator(bot, sandbox, ORGADMIN, "Cilda", self.lsk, StoredRole.ORGADMIN)
        self.outsider = await add_coordinator(bot, sandbox, OUTSIDER, "Dace", self.ogr)
        self.admin = await english(sandbox.user(COORDINATOR_ID, "Kārlis", language_code="en"))
        self.admin2 = await english(sandbox.user(SECOND_ADMIN, "Laima", language_code="en"))
        return self

    @property
    def holders(self) -> list[SimUser]:
        """Who gets a request of LSK's author: the others of LSK and the admins."""
        return [self.colleague, self.orgadmin, self.admin, self.admin2]

    async def submit(self, args: str = "Plūdi: vajag palīgus", who: SimUser | None = None) -> SimMessage:
        """``who`` (the author) sends ``/alert args`` and presses Send: it waits for approval."""
        u = who or self.author
        await u.send(f"/alert {args}")
        await u.wait_for("Preview")
        await u.press("🚀")
        return await u.wait_for("Waiting for approval")

    async def status(self, approval_id: int) -> str:
        return str(await self.bot.services.db.fetchval("SELECT status FROM approvals WHERE id = ?", (approval_id,)))

    async def alerts(self) -> int:
        return int(await self.bot.services.db.fetchval("SELECT count(*) FROM alerts"))

    async def audit(self, action: str) -> list[tuple[str | None, str, str]]:
        rows = await self.bot.services.db.fetchall(
            "SELECT actor_external_id, target, details FROM audit_log WHERE action = ? ORDER BY id", (action,)
        )
        return [(r["actor_external_id"], r["target"], r["details"]) for r in rows]


async def coalition(start_bot, sandbox, **alerts: object) -> Coalition:
    bot = await start_bot(access={"admin_ids": [COORDINATOR_ID, SECOND_ADMIN]}, alerts={**APPROVAL_ON, **alerts})
    return await Coalition(bot, sandbox).build()


def has_answer_buttons(m: SimMessage) -> bool:
    return any(data and data.startswith("ans:") for row in m.buttons for _, data in row)


def request_of(u: SimUser, approval_id: int) -> SimMessage:
    """The request message ``u`` got (the one that carried Approve and Reject)."""
    for m in reversed(u.messages):
        if ("Approval needed" in m.text and f"request #{approval_id}" in m.text) or (
            "Approval request" in m.text and f"#{approval_id} " in m.text
        ):
            return m
    raise AssertionError(f"{u!r} has no request #{approval_id}: {[m.describe() for m in u.messages[-4:]]}")


async def wait_decided(u: SimUser, approval_id: int, needle: str) -> SimMessage:
    msg = request_of(u, approval_id)

    async def decided() -> bool:
        return needle in msg.text and not msg.buttons

    await eventually(decided, f"{u!r} sees request #{approval_id}: {needle}", timeout=10)
    return msg


async def test_a_colleague_approves_the_alert_goes_out_as_the_authors_and_every_holder_sees_it(sandbox, start_bot):
    c = await coalition(start_bot, sandbox)
    waiting = await c.submit()
    assert "request #1" in waiting.text and "5 people" in waiting.text
    assert "went to 4 people who may approve it" in waiting.text
    preview = next(m for m in c.author.messages if "Preview" in m.text)
    assert not preview.buttons  # the preview's Send is gone: nothing more to press
    # nothing is sent before the approval
    assert await c.alerts() == 0 and not any(alert_messages(v) for v in c.volunteers)

    # the request: the preview as recipients will see it, the author and the size, Approve first, Reject last
    for u in c.holders:
        request = request_of(u, 1)
        assert "Anna (Liepājas Samariešu kopa) wants to send the alert above to 5 people" in request.text
        labels = request.button_labels
        assert labels[0] == "✅ Approve" and labels[-1] == "✖️ Reject", labels
        shown = u.messages[u.messages.index(request) - 1]
        assert "Plūdi: vajag palīgus" in shown.text and "Who gets it" in shown.text and "5 people" in shown.text
    # never to the author, nor to another organisation
    assert not any("Approval needed" in m.text for m in c.author.messages + c.outsider.messages)

    qid = await c.colleague.press("✅ Approve", request_of(c.colleague, 1))
    assert "alert #1 is on its way" in (await c.colleague.wait_answered(qid))["text"]
    told = await c.author.wait_for("approved your alert")
    assert "Baiba approved your alert (request #1): alert #1 is on its way to 5 people" in told.text
    await c.author.wait_for("📤 Delivery")  # the tracking message goes to the author
    for v in c.volunteers:
        msg = await v.wait_for(has_answer_buttons, timeout=10)
        assert "From: Anna, Liepājas Samariešu kopa" in msg.text
    alert = await c.bot.services.alerts.get(1)
    assert alert is not None and alert.author == Address.telegram(AUTHOR) and alert.organisation_id == c.lsk.id

    # every request holder sees who decided, and the buttons are gone
    for u in c.holders:
        await wait_decided(u, 1, "Approved by Baiba")
    assert "sent as alert #1" in request_of(c.admin, 1).text

    # a second press is told it was already decided, and nothing more is sent
    qid = await c.orgadmin.forge_callback("apv:yes:1", request_of(c.orgadmin, 1))
    assert (await c.orgadmin.wait_answered(qid))["text"] == "Already decided: Baiba approved it."
    assert await c.alerts() == 1
    assert await c.status(1) == "approved"

    submitted = await c.audit("alert_submitted")
    assert [(a, t) for a, t, _ in submitted] == [(str(AUTHOR), "approval:1")]
    assert '"approvers":4' in submitted[0][2] and '"recipients":5' in submitted[0][2]
    approved = await c.audit("alert_approved")
    assert [(a, t) for a, t, _ in approved] == [(str(COLLEAGUE), "approval:1")]
    assert '"alert":1' in approved[0][2] and '"recipients":5' in approved[0][2]
    assert [a for a, _, _ in await c.audit("alert_sent")] == [str(AUTHOR)]  # sent as the author's


async def test_an_admin_approves_and_an_admins_own_alert_goes_to_the_other_admins_only(sandbox, start_bot, caplog):
    caplog.set_level(logging.INFO)
    c = await coalition(start_bot, sandbox)
    assert events_of(caplog, "approvals_rebuilt") and not events_of(caplog, "approval_impossible")  # two admins
    await c.submit()
    await c.admin.press("✅ Approve", request_of(c.admin, 1))
    assert "Kārlis approved your alert" in (await c.author.wait_for("approved your alert")).text
    for u in c.holders:
        await wait_decided(u, 1, "Approved by Kārlis")

    # an admin's own (critical) alert: only the other admin may decide it
    waiting = await c.submit("severity=critical Evakuācija", who=c.admin)
    assert "went to 1 person who may approve it" in waiting.text
    assert "Approval needed" in request_of(c.admin2, 2).text
    for u in (c.colleague, c.orgadmin, c.outsider):
        assert not any("request #2" in m.text for m in u.messages)
    await c.admin2.press("✅ Approve", request_of(c.admin2, 2))
    assert "Laima approved your alert (request #2): alert #2" in (await c.admin.wait_for("approved your alert")).text
    await wait_decided(c.admin2, 2, "Approved by Laima")
    assert await c.alerts() == 2


def events_of(caplog: pytest.LogCaptureFixture, name: str) -> list[dict]:
    return [getattr(r, FIELDS) for r in caplog.records if getattr(r, EVENT, None) == name]


async def test_an_admin_alone_is_told_nobody_can_approve_and_nothing_is_sent(sandbox, start_bot, caplog):
    caplog.set_level(logging.INFO)
    bot = await start_bot(alerts={"approval_for_critical": True})
    # the operator is warned at start: nobody could approve a critical alert
    (warning,) = events_of(caplog, "approval_impossible")
    assert warning["admins"] == 1
    await seed(bot, sandbox, [Spec(1, "V1", "en")])
    admin = await english(sandbox.user(COORDINATOR_ID, "Kārlis", language_code="en"))
    await admin.send("/alert severity=critical Evakuācija")
    await admin.wait_for("Preview")
    await admin.press("🚀")
    refusal = await admin.wait_for("needs a second person's approval")
    assert "no other admin" in refusal.text and "Nothing was sent" in refusal.text
    assert await bot.services.db.fetchval("SELECT count(*) FROM approvals") == 0
    assert await bot.services.db.fetchval("SELECT count(*) FROM alerts") == 0
    # the draft is kept: its preview's Send still answers the same
    await admin.press("🚀")
    await admin.wait_for("no other admin")


async def test_rejection_with_and_without_a_reason(sandbox, start_bot):
    c = await coalition(start_bot, sandbox)
    await c.submit()
    await c.colleague.press("✖️ Reject", request_of(c.colleague, 1))
    question = await c.colleague.wait_for("Why do you reject request #1?")
    assert "What you started before is kept" not in question.text  # nothing was started
    assert await c.status(1) == "pending"  # asking for the reason decides nothing yet
    await c.colleague.send("Wrong area, this is for Ogre")
    await c.colleague.wait_for("Request #1 rejected")
    told = await c.author.wait_for("rejected your alert")
    assert "Baiba rejected your alert (request #1). Nothing was sent." in told.text
    assert "Reason: Wrong area, this is for Ogre" in told.text
    for u in c.holders:
        msg = await wait_decided(u, 1, "Rejected by Baiba")
        assert "Reason: Wrong area, this is for Ogre" in msg.text
    assert await c.status(1) == "rejected" and await c.alerts() == 0

    # without a reason: the "No reason" button
    await c.submit("Otrais mēģinājums")
    await c.orgadmin.press("✖️ Reject", request_of(c.orgadmin, 2))
    await c.orgadmin.wait_for("Why do you reject request #2?")
    await c.orgadmin.press("No reason")
    await c.orgadmin.wait_for("Request #2 rejected")
    told = await c.author.wait_for("rejected your alert (request #2)")
    assert "Cilda rejected" in told.text and "Reason" not in told.text
    for u in c.holders:
        msg = await wait_decided(u, 2, "Rejected by Cilda")
        assert "Reason" not in msg.text
    # approving after the rejection is refused
    qid = await c.admin.forge_callback("apv:yes:2", request_of(c.admin, 2))
    assert (await c.admin.wait_answered(qid))["text"] == "Already decided: Cilda rejected it."
    assert await c.alerts() == 0 and not any(alert_messages(v) for v in c.volunteers)
    rejected = await c.audit("alert_rejected")
    assert [(a, t) for a, t, _ in rejected] == [(str(COLLEAGUE), "approval:1"), (str(ORGADMIN), "approval:2")]
    assert '"reason":true' in rejected[0][2] and '"reason":false' in rejected[1][2]
    assert "Wrong area" not in "".join(d for _, _, d in rejected)  # the reason's words stay out of the trail


async def test_rejecting_keeps_the_draft_the_decider_was_composing(sandbox, start_bot):
    c = await coalition(start_bot, sandbox)
    u = c.colleague
    await u.send("/alert")
    await u.wait_for("New alert")
    await u.press("cmp:text")
    await u.wait_for("Type the alert text")

    # a request comes in while Baiba is composing: rejecting it with a reason keeps her draft
    await c.submit()
    await u.press("✖️ Reject", request_of(u, 1))
    question = await u.wait_for("Why do you reject request #1?")
    assert "What you started before is kept: you can go on with it after this." in question.text
    await u.send("Wrong area")
    await u.wait_for("Request #1 rejected")
    assert await c.status(1) == "rejected"
    await u.send("Plūdi: vajag smilšu maisus")  # the alert's text, where she left off
    await u.wait_for("Now the English version")

    # /cancel while asked for a reason: the request still waits, and the draft is hers again
    await c.submit("Otrais mēģinājums")
    await u.press("✖️ Reject", request_of(u, 2))
    await u.wait_for("Why do you reject request #2?")
    await u.send("/cancel")
    await u.wait_for("Nothing was rejected")
    assert await c.status(2) == "pending"
    await u.send("Floods: sandbags needed")  # the English version
    await u.wait_for("New alert")
    await u.press("cmp:preview")
    preview = await u.wait_for("Preview")
    assert "Floods: sandbags needed" in preview.text  # the English recipients' text, typed after /cancel

    # asked for a reason, she presses one of the draft's own buttons: back to the draft, the
    # question dropped and the request still waiting
    await c.submit("Trešais")
    await u.press("✖️ Reject", request_of(u, 3))
    await u.wait_for("Why do you reject request #3?")
    await u.press("✏️ Edit", preview)
    await u.wait_for("New alert")
    await u.press("cmp:need")
    await u.send("4")  # the draft's answer, not a reason
    await u.wait_for("Needed: 4")
    assert await c.status(3) == "pending"
    assert await c.alerts() == 0  # nothing was sent by any of this


async def test_simultaneous_decisions_send_once(sandbox, start_bot):
    c = await coalition(start_bot, sandbox)
    await c.submit()
    # two approvals pressed at once (their chats' updates run concurrently): one alert
    first = await c.colleague.press("✅ Approve", request_of(c.colleague, 1))
    second = await c.admin.press("✅ Approve", request_of(c.admin, 1))
    answers = [(await c.colleague.wait_answered(first))["text"], (await c.admin.wait_answered(second))["text"]]
    assert sum("is on its way" in a for a in answers) == 1, answers
    assert sum(a.startswith("Already decided") for a in answers) == 1, answers
    await c.author.wait_for("approved your alert")
    assert await c.alerts() == 1 and len(await c.audit("alert_approved")) == 1

    # an approval and a rejection at once: one of them, never both
    await c.submit("Otrais")
    await c.orgadmin.press("✖️ Reject", request_of(c.orgadmin, 2))
    await c.orgadmin.wait_for("Why do you reject request #2?")
    rejecting = await c.orgadmin.press("No reason")
    approving = await c.admin2.press("✅ Approve", request_of(c.admin2, 2))
    await c.orgadmin.wait_answered(rejecting)
    await c.admin2.wait_answered(approving)
    status = await c.status(2)
    assert status in ("approved", "rejected")
    assert await c.alerts() == (2 if status == "approved" else 1)
    decided = len(await c.audit("alert_approved")) + len(await c.audit("alert_rejected"))
    assert decided == 2  # request #1's approval and one decision of #2
    for u in c.holders:
        await wait_decided(u, 2, "Approved by Laima" if status == "approved" else "Rejected by Cilda")


async def test_the_author_cannot_approve_or_reject_their_own_alert(sandbox, start_bot):
    c = await coalition(start_bot, sandbox)
    await c.submit()
    for data in ("apv:yes:1", "apv:no:1", "apv:noreason:1"):
        qid = await c.author.forge_callback(data)
        answer = await c.author.wait_answered(qid)
        assert answer["text"] == "You cannot approve or reject your own alert: someone else has to.", data
    assert await c.status(1) == "pending" and await c.alerts() == 0
    assert await c.audit("alert_approved") == [] and await c.audit("alert_rejected") == []
    # the author's /pending does not list their own
    await c.author.send("/pending")
    assert "No alerts are waiting for your approval" in (await c.author.wait_for("approval")).text


async def test_a_coordinator_of_another_organisation_forging_a_decision_changes_nothing(sandbox, start_bot):
    c = await coalition(start_bot, sandbox)
    await c.submit()
    for data in ("apv:yes:1", "apv:no:1", "apv:noreason:1", "apv:open:1"):
        qid = await c.outsider.forge_callback(data)
        assert (await c.outsider.wait_answered(qid))["text"] == "This request is not yours to decide.", data
    # a request that does not exist
    qid = await c.colleague.forge_callback("apv:yes:99", request_of(c.colleague, 1))
    assert (await c.colleague.wait_answered(qid))["text"] == "There is no such request."
    # a volunteer is not a coordinator at all
    await c.volunteers[0].send("/help")
    await c.volunteers[0].wait_for("What I can do")
    qid = await c.volunteers[0].forge_callback("apv:yes:1")
    assert "only" in (await c.volunteers[0].wait_answered(qid))["text"]
    assert await c.status(1) == "pending" and await c.alerts() == 0
    assert not any("Approval request" in m.text for u in c.holders for m in u.messages)  # nobody's request changed
    await c.outsider.send("/pending")
    assert "No alerts are waiting for your approval" in (await c.outsider.wait_for("approval")).text
    # the rightful colleague still can
    await c.colleague.press("✅ Approve", request_of(c.colleague, 1))
    await c.author.wait_for("approved your alert")


async def test_a_request_expires_a_late_approval_is_refused_and_a_restart_expires_overdue_ones(sandbox, start_bot):
    c = await coalition(start_bot, sandbox)
    await c.submit()
    await c.submit("Otrs")
    await c.bot.services.db.execute("UPDATE approvals SET expires_at = '2000-01-01T00:00:00+00:00' WHERE id = 1")
    qid = await c.colleague.press("✅ Approve", request_of(c.colleague, 1))
    assert (await c.colleague.wait_answered(qid))["text"] == "This request has expired: nothing was sent."
    told = await c.author.wait_for("expired")
    assert "Nobody approved your alert in time (request #1)" in told.text and "Nothing was sent" in told.text
    for u in c.holders:
        await wait_decided(u, 1, "Expired at")
    assert await c.status(1) == "expired" and await c.alerts() == 0
    qid = await c.admin.forge_callback("apv:yes:1", request_of(c.admin, 1))
    assert (await c.admin.wait_answered(qid))["text"] == "This request has expired: nothing was sent."

    # the expiry is a job, and the job is rebuilt from the database at start
    await c.bot.stop()
    with sqlite3.connect(c.bot.settings.database.path) as conn:
        conn.execute("UPDATE approvals SET expires_at = '2000-01-01T00:00:00+00:00' WHERE id = 2")
    c.bot = await start_bot(access={"admin_ids": [COORDINATOR_ID, SECOND_ADMIN]}, alerts=APPROVAL_ON)
    told = await c.author.wait_for("(request #2), so it expired", timeout=10)
    for u in c.holders:
        await wait_decided(u, 2, "Expired at")
    assert await c.status(2) == "expired" and await c.alerts() == 0
    expired = await c.audit("approval_expired")
    assert [(a, t) for a, t, _ in expired] == [(None, "approval:1"), (None, "approval:2")]
    roles = await c.bot.services.db.fetchall(
        "SELECT role, organisation FROM audit_log WHERE action = 'approval_expired'"
    )
    assert {(r["role"], r["organisation"]) for r in roles} == {("system", "LSK")}


async def test_a_drill_needs_approval_too(sandbox, start_bot):
    c = await coalition(start_bot, sandbox, approval_above=1000)  # only critical alerts wait
    await c.author.send("/alert areas=Rīga Parasts")
    await c.author.wait_for("Preview")
    await c.author.press("🚀")
    await c.author.wait_for("📤 Delivery")  # an urgent alert to five: no approval
    waiting = await c.submit("severity=critical drill=yes Mācības: evakuācija")
    assert "request #1" in waiting.text
    shown = c.colleague.messages[c.colleague.messages.index(request_of(c.colleague, 1)) - 1]
    assert "EXERCISE" in shown.text and "Exercise: yes" in shown.text
    assert "🧪" not in "".join(m.text for v in c.volunteers for m in alert_messages(v))
    await c.colleague.press("✅ Approve", request_of(c.colleague, 1))
    await c.author.wait_for("alert #2 is on its way")
    for v in c.volunteers:
        msg = await v.wait_for(lambda m: "EXERCISE" in m.text and bool(m.buttons), timeout=10)
        assert "Mācības: evakuācija" in msg.text
    alert = await c.bot.services.alerts.get(2)
    assert alert is not None and alert.draft.drill and alert.draft.severity == "critical"


async def test_pending_lists_what_waits_for_the_person_and_opens_it_again(sandbox, start_bot):
    c = await coalition(start_bot, sandbox)
    await c.submit("Pirmais")
    await c.submit("Otrais")
    await c.colleague.send("/pending")
    listing = await c.colleague.wait_for("waiting for approval")
    assert "2 alerts are waiting for approval" in listing.text
    assert "#1" in listing.text and "Pirmais" in listing.text and "#2" in listing.text and "Otrais" in listing.text
    assert "Anna (Liepājas Samariešu kopa)" in listing.text
    assert listing.button_labels == ["🔎 Open request #1", "🔎 Open request #2"]
    # opening shows the request again, and a decision edits this copy too
    await c.colleague.press("apv:open:2", listing)
    again = await c.colleague.wait_for(lambda m: "Approval needed" in m.text and "request #2" in m.text)
    assert again.button_labels == ["✅ Approve", "✖️ Reject"]
    assert "Otrais" in c.colleague.messages[c.colleague.messages.index(again) - 1].text
    await c.colleague.press("✅ Approve", again)
    await c.author.wait_for("alert #1 is on its way")

    async def both_copies_decided() -> bool:
        copies = [
            m for m in c.colleague.messages if "Approval" in m.text and "#2" in m.text and "Preview" not in m.text
        ]
        return len(copies) == 2 and all("Approved by Baiba" in m.text and not m.buttons for m in copies)

    await eventually(both_copies_decided, "both copies of request #2 show the approval")
    # decided requests leave /pending; the admin still sees the other one
    await c.admin.send("/pending")
    listing = await c.admin.wait_for("waiting for approval")
    assert "1 alert is waiting for approval" in listing.text and "Pirmais" in listing.text
    assert "Otrais" not in listing.text


async def test_requests_come_in_the_deciders_language(sandbox, start_bot):
    c = await coalition(start_bot, sandbox)
    await c.colleague.send("/language")
    await c.colleague.wait_for("Choose your language")
    await c.colleague.press("clang:lv")
    await c.colleague.wait_for("Valoda")
    await c.submit()
    request = request_of_lv(c.colleague, 1)
    assert request.button_labels[0].startswith("✅") and request.button_labels[-1].startswith("✖️")
    await c.colleague.press(request.buttons[0][0][1] or "", request)
    await c.author.wait_for("Baiba approved your alert")  # the author reads English
    msg = request_of_lv(c.colleague, 1)
    await eventually(lambda: _no_buttons(msg), "the Latvian request lost its buttons")
    assert "Baiba" in msg.text and "#1" in msg.text


def request_of_lv(u: SimUser, approval_id: int) -> SimMessage:
    for m in reversed(u.messages):
        if f"#{approval_id}" in m.text and ("apstiprin" in m.text.lower()):
            return m
    raise AssertionError(f"{u!r}: no Latvian request #{approval_id}: {[m.describe() for m in u.messages[-3:]]}")


async def _no_buttons(msg: SimMessage) -> bool:
    return not msg.buttons


async def test_a_coordinator_who_chose_no_language_gets_requests_in_their_telegram_apps(sandbox, start_bot):
    bot = await start_bot(access={"admin_ids": [COORDINATOR_ID]}, alerts=APPROVAL_ON)
    lsk = await bot.services.organisations.add("LSK", "Liepājas Samariešu kopa", Scope())
    await seed(bot, sandbox, [Spec(i, f"V{i}", "en") for i in range(1, 6)])
    author = await add_coordinator(bot, sandbox, AUTHOR, "Anna", lsk)
    for uid in (COLLEAGUE, ORGADMIN):
        await bot.services.coordinators.put(Address.telegram(uid), lsk.id, StoredRole.COORDINATOR, Scope())
    await bot.services.authorisation.refresh()
    # Baiba's Telegram is in English and she has written to the bot; Cilda never has
    baiba = sandbox.user(COLLEAGUE, "Baiba", language_code="en")
    await baiba.send("/help")
    assert "/alert" in (await baiba.wait_for("/alert")).text
    cilda = sandbox.user(ORGADMIN, "Cilda", language_code="en")
    await Coalition(bot, sandbox).submit(who=author)
    await eventually(lambda: _has(request_of, baiba, 1), "Baiba's request, in English", timeout=10)
    await eventually(lambda: _has(request_of_lv, cilda, 1), "Cilda's request, in Latvian", timeout=10)
    assert "Approval needed" in request_of(baiba, 1).text
    assert all("Approval needed" not in m.text for m in cilda.messages)


async def _has(find: Callable[[SimUser, int], SimMessage], u: SimUser, approval_id: int) -> bool:
    try:
        find(u, approval_id)
    except AssertionError:
        return False
    return True
