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
    assert interrupting(asked, None) == asked and kept_by(asked) is None


def test_the_same_flow_again_replaces_it_and_keeps_what_it_kept():
    first = interrupting(Session(Flow.REJECT, "reason", {"approval": 1}), DRAFT)
    second = interrupting(Session(Flow.REJECT, "reason", {"approval": 2}), first)
    assert second.data["approval"] == 2 and kept_by(second) == DRAFT
    reply = interrupting(Session(Flow.REPLY, "text", {"message": 7}), second)  # nested: back step by step
    back = kept_by(reply)
    assert back is not None and back.flow == Flow.REJECT and kept_by(back) == DRAFT


def test_a_damaged_record_keeps_nothing():
    assert kept_by(Session(Flow.REJECT, "reason", {"kept": {"flow": "nonsense", "step": "x", "data": {}}})) is None
    assert kept_by(Session(Flow.REJECT, "reason", {"kept": "text"})) is None
