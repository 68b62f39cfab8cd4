"""Conversations: which flow and step a person is in, and what they entered so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Flow(StrEnum):
    """The multi-step conversations; the value is what the ``sessions`` table stores."""

    REGISTER = "register"
    EDIT = "edit"
    PAUSE = "pause"
    COMPOSE = "compose"
    FOLLOWUP = "followup"
    TALK = "talk"  # a volunteer is asked whether to send their text to an alert's coordinator
    REPLY = "reply"  # a coordinator types a reply to a volunteer's message
    REJECT = "reject"  # a coordinator types why they reject an alert waiting for approval


@dataclass
class Session:
    flow: Flow
    step: str
    data: dict[str, Any] = field(default_factory=dict)


# Where an interrupting session (a rejection's reason, a reply: one text) keeps the session it
# interrupted, to come back to when it ends.
KEPT = "kept"


def interrupting(new: Session, current: Session | None) -> Session:
    """``new``, keeping ``current`` (a draft being composed, say) for when it ends. One question
    at a time: an interrupting session that ``current`` is itself (a reason asked, then Reply
    pressed) is replaced, and what it kept is kept instead, so nothing nests."""
    kept: dict[str, Any] | None = None
    if current is not None:
        kept = current.data.get(KEPT) if KEPT in current.data else as_data(current)
    return Session(new.flow, new.step, {**new.data, KEPT: kept})  # KEPT marks an interruption, also when None


def as_data(session: Session) -> dict[str, Any]:
    return {"flow": session.flow.value, "step": session.step, "data": session.data}


def kept_by(session: Session) -> Session | None:
    """What ``session`` interrupted (see ``interrupting``), or None."""
    kept = session.data.get(KEPT)
    if not isinstance(kept, dict):
        return None
    try:
        return Session(Flow(kept["flow"]), str(kept["step"]), dict(kept["data"]))
    except (KeyError, TypeError, ValueError):
        return None
