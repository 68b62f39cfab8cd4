"""An interrupting session (a rejection's reason, a reply) keeps what it interrupted."""

from __future__ import annotations

from bot.domain.sessions import Flow, Session, interrupting, kept_by

DRAFT = Session(Flow.COMPOSE, "text", {"areas": ["0040000"], "text": {"lv": "Plūdi"}})


def test_what_was_interrupted_comes_back_whole():
    reason = interrupting(Session(Flow.REJECT, "reason", {"approval": 1}), DRAFT)
    assert reason.flow == Flow.REJECT and reason.data["approval"] == 1
    assert kept_by(reason) == DRAFT


def test_nothing_to_keep():
    asked = Session(Flow.REJECT, "reason", {"approval": 1})
    started = interrupting(asked, None)
    assert (started.flow, started.data["approval"]) == (Flow.REJECT, 1) and kept_by(started) is None


def test_a_question_on_top_of_a_question_replaces_it_and_keeps_what_it_kept():
    first = interrupting(Session(Flow.REJECT, "reason", {"approval": 1}), DRAFT)
    second = interrupting(Session(Flow.REJECT, "reason", {"approval": 2}), first)
    assert second.data["approval"] == 2 and kept_by(second) == DRAFT
    reply = interrupting(Session(Flow.REPLY, "text", {"message": 7}), second)  # never nested
    assert reply.data["message"] == 7 and "approval" not in reply.data and kept_by(reply) == DRAFT
    asked = interrupting(Session(Flow.REJECT, "reason", {"approval": 3}), None)
    alone = interrupting(Session(Flow.REPLY, "text", {"message": 8}), asked)
    assert kept_by(alone) is None  # a question that kept nothing keeps nothing when replaced


def test_a_damaged_record_keeps_nothing():
    assert kept_by(Session(Flow.REJECT, "reason", {"kept": {"flow": "nonsense", "step": "x", "data": {}}})) is None
    assert kept_by(Session(Flow.REJECT, "reason", {"kept": "text"})) is None
