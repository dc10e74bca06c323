"""The exchange's rules on plain values, without a database: what a send or a transition
is refused for (every problem at once), and what it would write. The HTTP tests
(test_referrals.py and others) check the same rules through the whole stack."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from directory.errors import Conflict, Invalid
from directory.gazetteer import load_gazetteer
from directory.vocabulary import Domain
from service.accounts.store import Actor, Role
from service.referrals.decide import (
    ActFacts,
    AlreadyAnswered,
    SendFacts,
    Target,
    Who,
    check_action,
    domain_problem,
    send_changes,
    send_problems,
    transition_changes,
)
from service.referrals.exchange import ReadFacts, referral_view
from service.referrals.machine import Party, Status, Transition
from service.referrals.schemas import Action, ConsentIn, ReferralCreate, YoungPersonIn
from service.referrals.tables import Referral

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
MISSION_LOCALE, PARTNER, THIRD = uuid4(), uuid4(), uuid4()
ADVISOR = Actor(uuid4(), "Awa Diallo", "awa@ml.exemple.fr", Role.ADVISOR, MISSION_LOCALE)
PARTNER_LINK = Who(Party.PARTNER, label="Le partenaire")


def _target(status: str = "active", service_domains: list[str] | None = None) -> Target:
    service_id = uuid4() if service_domains is not None else None
    service = {"structure": PARTNER, "domains": service_domains} if service_id else None
    return Target(PARTNER, {"status": status}, service_id, service)


def _create(**changes: object) -> ReferralCreate:
    fields: dict = {
        "to_structure_id": PARTNER,
        "domain": Domain.HOUSING,
        "consent": ConsentIn(given=True, shares=["message", "age", "message"]),
        "young_person": YoungPersonIn(
            first_name=" Yanis ", commune="26362", email="Yanis@Exemple.fr", channel="email"
        ),
        "message": "  Hébergé chez un ami.  ",
    }
    fields.update(changes)
    return ReferralCreate(**fields)


def _facts(target: Target | None = None) -> SendFacts:
    return SendFacts(target or _target(), None, {"acknowledge_due": NOW, "convention": None})


def test_a_send_reports_every_problem_at_once():
    data = _create(
        consent=ConsentIn(given=False),
        young_person=YoungPersonIn(
            first_name="Yanis", commune="99999", phone="12", birth_year=1950, channel="email"
        ),
    )
    facts = _facts(_target(status="closed", service_domains=["health"]))
    errors = send_problems(ADVISOR, data, facts, date(2026, 3, 10), load_gazetteer())
    assert set(errors) == {
        "consent",
        "to_structure_id",
        "domain",
        "phone",
        "birth_year",
        "commune",
        "channel",
    }
    assert "Logement" in errors["domain"] and "Santé" in errors["domain"]


def test_a_service_takes_only_its_own_domains_or_any_when_it_lists_none():
    assert domain_problem("housing", ["housing", "health"]) == ""
    assert domain_problem("housing", []) == ""
    problem = domain_problem("mobility", ["housing"])
    assert problem.startswith("Ce service ne couvre pas le domaine « Mobilité »")


def test_a_send_writes_a_clean_young_person_and_referral():
    changes = send_changes(ADVISOR, _create(), _facts(), NOW)
    assert changes.young is not None
    assert (changes.young["first_name"], changes.young["email"]) == ("Yanis", "yanis@exemple.fr")
    assert changes.referral["message"] == "Hébergé chez un ami."
    assert changes.referral["from_structure"] == MISSION_LOCALE
    assert changes.referral["acknowledge_due"] == NOW  # the deadlines read beforehand
    assert changes.shares == ["age", "message"]
    assert changes.young_link and changes.email_young_link


def test_an_sms_link_is_made_but_not_emailed():
    person = YoungPersonIn(first_name="Lou", commune="26362", phone="0611223344", channel="sms")
    changes = send_changes(ADVISOR, _create(young_person=person), _facts(), NOW)
    assert changes.young_link and not changes.email_young_link
    assert changes.young is not None and changes.young["phone"] == "+33611223344"


def _row(status: Status = Status.SENT, **fields: object) -> dict:
    row = {
        "id": uuid4(),
        "status": status.value,
        "version": 3,
        "to_structure": PARTNER,
        "from_structure": MISSION_LOCALE,
        "domain": "housing",
        "acknowledged_at": None,
        "held_from": "",
        "held_since": None,
        "acknowledge_due": NOW,
        "answer_due": NOW + timedelta(days=7),
        "young_person": uuid4(),
        "referent": ADVISOR.user_id,
        "urgency": "normal",
        "language": "fr",
        "message": "",
    }
    row.update(fields)
    return row


def _decide(action: Action, facts: ActFacts, who: Who = PARTNER_LINK):
    rule = check_action(facts, action, who)
    return transition_changes(facts, action, rule, NOW)


def test_a_decline_with_a_suggestion_records_it_and_tells_the_advisor():
    row = _row()
    facts = ActFacts(row, [row["id"]], suggested={"id": THIRD, "status": "active"})
    action = Action(
        Transition.DECLINE, reason="no_capacity", note=" Complet. ", suggested_structure_id=THIRD
    )
    changes = _decide(action, facts)
    assert changes.columns[Referral.suggested_structure] == THIRD
    assert changes.columns[Referral.status] == "declined"
    assert changes.columns[Referral.version] == 4
    assert changes.columns[Referral.acknowledged_at] == NOW  # answering also acknowledges
    assert changes.entry.private and changes.entry.note == "Complet."
    assert changes.mail is not None and changes.mail.audience == "referent"
    assert changes.child is None and not changes.erase_shared


@pytest.mark.parametrize(
    ("suggested", "found", "problem"),
    [
        (PARTNER, {"status": "active"}, "Suggérez une autre structure que la vôtre"),
        (MISSION_LOCALE, {"status": "active"}, "C'est la structure qui a orienté le jeune"),
        (THIRD, None, "introuvable"),
        (THIRD, {"status": "closed"}, "n'est pas active"),
    ],
)
def test_a_suggestion_must_be_another_active_structure(suggested, found, problem):
    row = _row()
    facts = ActFacts(row, [row["id"]], suggested=found)
    action = Action(Transition.DECLINE, reason="other", suggested_structure_id=suggested)
    with pytest.raises(Invalid) as refused:
        check_action(facts, action, PARTNER_LINK)
    # Reported together with the other problems of the same answer.
    assert set(refused.value.errors) == {"note", "suggested_structure_id"}
    assert problem in refused.value.errors["suggested_structure_id"]


def test_only_a_decline_carries_a_suggestion():
    row = _row()
    facts = ActFacts(row, [row["id"]], suggested={"status": "active"})
    action = Action(Transition.ACCEPT, suggested_structure_id=THIRD)
    with pytest.raises(Invalid) as refused:
        check_action(facts, action, PARTNER_LINK)
    assert "qu'en refusant" in refused.value.errors["suggested_structure_id"]


def test_refusals_before_input_problems_state_machine_answer_and_version():
    row = _row(Status.ACCEPTED)
    with pytest.raises(Conflict, match="Impossible"):
        check_action(ActFacts(row, [row["id"]]), Action(Transition.ACKNOWLEDGE), PARTNER_LINK)
    young = Who(Party.YOUNG_PERSON, label="Le jeune")
    with pytest.raises(AlreadyAnswered):
        check_action(ActFacts(row, [row["id"]], answered=True), Action(Transition.WENT), young)
    stale = Action(Transition.TAKE_IN, expected_version=2)
    with pytest.raises(Conflict, match="rechargez"):
        check_action(ActFacts(row, [row["id"]]), stale, PARTNER_LINK)


def test_resuming_moves_the_deadlines_by_the_pause_and_goes_back_where_it_was():
    held_since = NOW - timedelta(days=14)
    row = _row(Status.ON_HOLD, held_from="received", held_since=held_since)
    advisor = Who(Party.ADVISOR, ADVISOR, label=ADVISOR.name)
    changes = _decide(Action(Transition.RESUME), ActFacts(row, [row["id"]]), advisor)
    assert changes.entry.to_status == Status.RECEIVED
    assert changes.columns[Referral.held_since] is None
    assert changes.columns[Referral.answer_due] > row["answer_due"]
    assert changes.mail is None  # the advisor acted: nobody to tell


def test_withdrawing_erases_the_whole_path_and_cancels():
    first, latest = uuid4(), uuid4()
    row = _row(Status.RECEIVED, id=latest)
    young = Who(Party.YOUNG_PERSON, label="Le jeune")
    changes = _decide(Action(Transition.WITHDRAW), ActFacts(row, [first, latest]), young)
    assert changes.erase_shared == [first, latest] and changes.cancel
    assert changes.columns[Referral.closed_at] == NOW


def test_a_redirection_builds_the_linked_referral_and_checks_the_service_need():
    row = _row(message="Besoin d'un logement.")
    terms = {"answer_due": NOW + timedelta(days=10), "convention": None}
    action = Action(Transition.REDIRECT, redirect_to_structure_id=THIRD)
    target = Target(THIRD, {"status": "active"})
    changes = _decide(action, ActFacts(row, [row["id"]], redirect=target, redirect_terms=terms))
    child = changes.child
    assert child is not None
    assert (child["parent"], child["to_structure"], child["message"]) == (
        row["id"],
        THIRD,
        "Besoin d'un logement.",
    )
    assert child["answer_due"] == terms["answer_due"]

    service = UUID(int=1)
    other_need = Target(
        THIRD, {"status": "active"}, service, {"structure": THIRD, "domains": ["health"]}
    )
    with_service = Action(
        Transition.REDIRECT, redirect_to_structure_id=THIRD, redirect_to_service_id=service
    )
    with pytest.raises(Invalid) as refused:
        check_action(ActFacts(row, [row["id"]], redirect=other_need), with_service, PARTNER_LINK)
    assert "ne couvre pas" in refused.value.errors["to_service_id"]


def _read_facts(status: Status, shares: list[str]) -> ReadFacts:
    row = _row(
        status,
        outcome="",
        decline_reason="no_capacity",
        private_note="Complet.",
        suggested_structure=THIRD,
        suggested_name="Résidence sociale",
        suggested_status="active",
        from_structure_name="Mission Locale",
        to_structure_name="Foyer",
        to_service=None,
        to_service_name=None,
        contact_first_name="Léna",
        contact_last_name=None,
        referent_name="Awa Diallo",
        referent_email="awa@ml.exemple.fr",
        parent=None,
        convention=None,
        convention_title=None,
        sent_at=NOW,
        closed_at=None,
        message="Hébergé chez un ami.",
    )
    young = {
        "first_name": "Yanis",
        "birth_year": 2005,
        "age_range": "",
        "commune": "26362",
        "phone": "+33611223344",
        "email": "",
        "channel": "sms",
    }
    consent = {"withdrawn_at": None, "shares": shares}
    return ReadFacts(row, young, consent, [], [], None, None)


def test_each_party_reads_its_own_cut_of_a_referral():
    received = _read_facts(Status.RECEIVED, ["commune", "message"])
    partner = referral_view(received, PARTNER_LINK, NOW)
    assert partner.young_person == {"first_name": "Yanis", "commune": "26362"}
    assert partner.message == "Hébergé chez un ami." and partner.private_note == ""
    assert partner.to_contact_name == "Léna"
    assert not partner.overdue  # received: the answer is due in a week
    assert referral_view(received, PARTNER_LINK, NOW + timedelta(days=8)).overdue

    declined = _read_facts(Status.DECLINED, ["commune", "message"])
    after = referral_view(declined, PARTNER_LINK, NOW)
    assert after.young_person == {} and after.message == ""  # no longer the partner's business
    advisor = referral_view(declined, Who(Party.ADVISOR, ADVISOR), NOW)
    assert advisor.private_note == "Complet." and advisor.young_person["phone"]
    assert (advisor.suggested_structure_id, advisor.suggested_structure_name) == (
        THIRD,
        "Résidence sociale",
    )
    young = referral_view(declined, Who(Party.YOUNG_PERSON), NOW)
    assert young.decline_reason == "" and young.suggested_structure_id is None
