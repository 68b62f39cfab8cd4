"""Who is acting as a coordinator: admins (``access.admin_ids``) and the coordinators and
organisation admins organisations added (read from the database at every check, so that a
revocation, also one made on the command line, takes effect at once). What an actor may do is
decided by the rules in ``bot.domain.coalition``.

``is_staff`` answers without the database, for what is not a permission (which /start to show,
whose updates skip the newcomers' throttle): it knows the admins and the coordinators seen at
the last ``refresh``, which the bot runs at start, after every change it makes and every few
seconds for changes made on the command line."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from enum import StrEnum
from typing import Protocol

from bot.domain.alerts import Alert
from bot.domain.coalition import Actor, Coordinator, may_act_on_alert
from bot.domain.people import TELEGRAM, Address
from bot.logs import event

log = logging.getLogger(__name__)


class CoordinatorLookup(Protocol):
    """``db.organisations.CoordinatorRepo``, as far as finding actors goes."""

    async def get(self, address: Address) -> Coordinator | None: ...
    async def addresses(self) -> set[Address]: ...


class Authorisation:
    def __init__(self, admin_ids: Iterable[int], coordinators: CoordinatorLookup) -> None:
        self._admins = frozenset(Address(TELEGRAM, str(i)) for i in admin_ids)
        self._coordinators = coordinators
        self._known: set[Address] = set()

    def is_admin(self, address: Address) -> bool:
        return address in self._admins

    def admins(self) -> frozenset[Address]:
        """The admins (``access.admin_ids``)."""
        return self._admins

    async def actor(self, address: Address) -> Actor | None:
        """The admin, organisation admin or coordinator at ``address``; None for anyone else."""
        if address in self._admins:
            return Actor.admin(address)
        coordinator = await self._coordinators.get(address)
        if coordinator is None:
            self._known.discard(address)
            return None
        self._known.add(address)
        return Actor.of(coordinator)

    def is_staff(self, address: Address) -> bool:
        """An admin or a coordinator as of the last ``refresh`` (not a permission: see above)."""
        return address in self._admins or address in self._known

    async def refresh(self) -> None:
        self._known = await self._coordinators.addresses()


class AlertRefusal(StrEnum):
    """Why an actor gets no alert to act on."""

    UNKNOWN = "unknown"  # there is no such alert
    NOT_YOURS = "not_yours"  # sent for another organisation (by someone else)


class AlertLookup(Protocol):
    """``db.alerts.AlertRepo``, as far as finding an alert goes."""

    async def get(self, alert_id: int) -> Alert | None: ...


class AlertAccess:
    """The one gate to an existing alert for coordinators' commands and buttons (following,
    closing, exporting, talk-back): the alert if ``actor`` may act on it
    (``bot.domain.coalition.may_act_on_alert``), else why not."""

    def __init__(self, alerts: AlertLookup) -> None:
        self._alerts = alerts

    async def alert_for(self, actor: Actor, alert_id: int) -> Alert | AlertRefusal:
        alert = await self._alerts.get(alert_id)
        if alert is None:
            return AlertRefusal.UNKNOWN
        if not may_act_on_alert(actor, alert.organisation_id, alert.author):
            event(
                log,
                "alert_access_refused",
                alert=alert_id,
                user=actor.address.external_id,
                organisation=actor.organisation_code or "-",
            )
            return AlertRefusal.NOT_YOURS
        return alert
