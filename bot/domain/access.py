"""Who may do what. The one place that decides whether someone is a coordinator, so that
organisations and invited coordinators can extend it later."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.people import TELEGRAM, Address


class Access:
    def __init__(self, admin_ids: Iterable[int]) -> None:
        self._admins = {Address(TELEGRAM, str(i)) for i in admin_ids}

    def is_coordinator(self, address: Address) -> bool:
        return address in self._admins
