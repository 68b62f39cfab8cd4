"""How many people an alert still needs: the first N who accept are accepted, later ones are
on standby, and when an accepted person withdraws the first standby person moves up."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.alerts import Response


@dataclass(frozen=True)
class Decision:
    response: Response  # what the person's answer becomes
    promote_standby: bool = False  # whether the first standby person moves up


def decide(current: Response, accepts: bool, need: int | None, accepted_now: int) -> Decision:
    """``accepted_now`` counts the accepted people, including this person if accepted."""
    if accepts:
        if current in (Response.ACCEPTED, Response.STANDBY):
            return Decision(current)
        if need is None or accepted_now < need:
            return Decision(Response.ACCEPTED)
        return Decision(Response.STANDBY)
    return Decision(Response.DECLINED, promote_standby=current == Response.ACCEPTED and need is not None)


def still_needed(need: int | None, accepted: int) -> int | None:
    return None if need is None else max(0, need - accepted)
