"""The scope's rules: a place outside a coordinator's scope (the composer's problem), whose phone
number an alert's export shows, and the one gate to an alert (``AlertAccess``)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.application.authorisation import AlertAccess, AlertRefusal
from bot.application.composer import outside_scope
from bot.domain.alerts import Alert, AlertDraft
from bot.domain.coalition import Actor, Coordinator, Organisation, Scope, StoredRole, phone_shown
from bot.domain.people import Address

OGRE, RIGA = "0040000", "0001000"
EVERYWHERE = Scope()
OGRE_ORG = Organisation(1, "OGR", "Ogres glābēji", Scope((OGRE,), ("IE",)))
RIGA_ORG = Organisation(2, "RIX", "Rīgas brīvprātīgie", Scope((RIGA,)))


def coordinator(org: Organisation, user: int = 100, scope: Scope = EVERYWHERE) -> Actor:
    return Actor.of(Coordinator(Address.telegram(user), org, StoredRole.COORDINATOR, scope))


def test_places_outside_the_scope_are_named_with_the_scope() -> None:
    aija = coordinator(OGRE_ORG)
    assert outside_scope(aija, [OGRE], ["IE"]) is None
    assert outside_scope(aija, [], []) is None  # no place: the audience keeps to the scope by itself
    problem = outside_scope(aija, [OGRE, RIGA], ["IE", "GB", "*"])
    assert problem is not None and problem.code == "outside_scope"
    assert problem.values == {
        "areas": RIGA,
        "countries": "GB,*",
        "organisation": "Ogres glābēji",
        "scope_areas": OGRE,
        "scope_countries": "IE",
    }
    # a narrower scope given to the coordinator is theirs, not the organisation's
    narrow = coordinator(OGRE_ORG, scope=Scope((), ("IE",)))
    refused = outside_scope(narrow, [OGRE], [])
    assert refused is not None and refused.values["scope_areas"] == "" and refused.values["scope_countries"] == "IE"
    assert outside_scope(Actor.admin(Address.telegram(1)), [OGRE, RIGA], ["*"]) is None
    # everyone abroad lies only within a scope of everyone abroad
    assert outside_scope(coordinator(Organisation(3, "DIA", "Diaspora", Scope((), ("*",)))), [], ["*", "US"]) is None


def test_a_phone_number_is_shown_only_where_the_person_allowed_it() -> None:
    # an organisation's alert: only if the person lets that organisation see it
    assert phone_shown(1, (1,), (1,))
    assert not phone_shown(1, (1,), ())  # a member who does not allow it
    assert not phone_shown(1, (), ())  # the shared pool: they allowed no organisation
    assert not phone_shown(1, (1, 2), (2,))  # allowed another organisation only
    # an admin's own alert: the pool, and members who let any of their organisations see it
    assert phone_shown(None, (), ())
    assert phone_shown(None, (1, 2), (2,))
    assert not phone_shown(None, (1,), ())


class Alerts:
    def __init__(self, *alerts: Alert) -> None:
        self.alerts = {a.id: a for a in alerts}

    async def get(self, alert_id: int) -> Alert | None:
        return self.alerts.get(alert_id)


def alert(alert_id: int, organisation_id: int | None, author: int) -> Alert:
    return Alert(
        alert_id,
        AlertDraft(),
        "Author",
        "Org",
        datetime.now(UTC),
        author_external_id=str(author),
        organisation_id=organisation_id,
    )


async def test_the_gate_to_an_alert_lets_its_organisation_its_author_and_admins_through() -> None:
    ogres, rigas, admins = alert(1, OGRE_ORG.id, 100), alert(2, RIGA_ORG.id, 200), alert(3, None, 1)
    access = AlertAccess(Alerts(ogres, rigas, admins))
    aija, andris, baiba = coordinator(OGRE_ORG, 100), coordinator(OGRE_ORG, 101), coordinator(RIGA_ORG, 200)
    assert await access.alert_for(aija, 1) is ogres
    assert await access.alert_for(andris, 1) is ogres  # the same organisation's other coordinator
    assert await access.alert_for(aija, 2) == AlertRefusal.NOT_YOURS
    assert await access.alert_for(baiba, 1) == AlertRefusal.NOT_YOURS
    assert await access.alert_for(baiba, 3) == AlertRefusal.NOT_YOURS  # an admin's own alert
    assert await access.alert_for(aija, 99) == AlertRefusal.UNKNOWN
    admin = Actor.admin(Address.telegram(1))
    assert [await access.alert_for(admin, i) for i in (1, 2, 3)] == [ogres, rigas, admins]
    # a coordinator who moved to another organisation still follows the alerts they sent
    moved = coordinator(RIGA_ORG, 100)
    assert await access.alert_for(moved, 1) is ogres
