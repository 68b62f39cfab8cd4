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
