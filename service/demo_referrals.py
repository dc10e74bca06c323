"""Referrals of the demo territory: a few young people followed by the demo advisor, in
every state of the life cycle, so that the outbox, the inbox, a journey and a wandering
alert can be seen at once. Dates count back from the day of loading."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

import msgspec

from directory.hours import LOCAL_TIME, local_date
from directory.tables import Structure
from service.accounts.store import Actor
from service.referrals import exchange
from service.referrals.exchange import Rules, Who
from service.referrals.machine import Party, Transition
from service.referrals.schemas import Action, ReferralCreate
from service.referrals.tables import OutboxMessage

PARTNER = Who(Party.PARTNER, label="Partenaire (lien personnel)")
YOUNG = Who(Party.YOUNG_PERSON, label="Le jeune")


@dataclass(frozen=True)
class Step:
    days_ago: float
    transition: Transition
    reason: str = ""
    note: str = ""
    redirect_to: str = ""  # a network code: the first structure of that network
    by: str = "partner"


@dataclass(frozen=True)
class Story:
    first_name: str
    age_range: str
    commune: str
    domain: str
    network: str
    days_ago: float
    message: str
    steps: tuple[Step, ...] = ()
    again: bool = False  # a further referral of the previous story's young person


STORIES: tuple[Story, ...] = (
    Story(
        "Yanis",
        "18-21",
        "26362",
        "housing",
        "residences-fjt",
        1.2,
        "Hébergé chez un ami jusqu'à la fin du mois, cherche un logement.",
    ),
    Story(
        "Inès",
        "16-17",
        "26058",
        "health",
        "cmp",
        12,
        "Difficultés à dormir et à se concentrer, souhaite parler à quelqu'un.",
    ),
    Story(
        "Lucas",
        "22-25",
        "26362",
        "training",
        "afpa",
        20,
        "Veut se former à la logistique ; a le permis B.",
        (
            Step(19, Transition.ACKNOWLEDGE),
            Step(17, Transition.ACCEPT),
            Step(9, Transition.TAKE_IN),
        ),
    ),
    Story(
        "Emma",
        "18-21",
        "26281",
        "employment",
        "siae",
        45,
        "Cherche un premier emploi, disponible tout de suite.",
        (
            Step(44, Transition.ACCEPT),
            Step(38, Transition.TAKE_IN),
            Step(5, Transition.CLOSE, reason="need_met"),
        ),
    ),
    Story(
        "Noah",
        "18-21",
        "26362",
        "rights",
        "cidff",
        10,
        "Question sur ses droits après une séparation.",
        (
            Step(
                8,
                Transition.DECLINE,
                reason="wrong_service",
                note="Nous accueillons surtout les femmes ; le Point Justice sera mieux placé.",
            ),
        ),
    ),
    Story(
        "Sarah",
        "22-25",
        "26198",
        "mobility",
        "wimoov",
        15,
        "A besoin d'un moyen de transport pour un emploi à 20 km.",
        (
            Step(
                13,
                Transition.REDIRECT,
                redirect_to="mobin",
                note="L'auto-école sociale a des places en ce moment.",
            ),
        ),
    ),
    Story(
        "Adam",
        "18-21",
        "26362",
        "housing",
        "residences-fjt",
        70,
        "Sans solution d'hébergement stable.",
        (Step(66, Transition.DECLINE, reason="no_capacity", note="Complet."),),
    ),
    Story(
        "Adam",
        "18-21",
        "26362",
        "housing",
        "chrs",
        40,
        "Sans solution d'hébergement stable.",
        (Step(36, Transition.DECLINE, reason="not_eligible"),),
        again=True,
    ),
    Story(
        "Adam",
        "18-21",
        "26362",
        "housing",
        "residences-fjt",
        6,
        "Toujours sans solution : nouvelle demande.",
        again=True,
    ),
    Story(
        "Léa",
        "16-17",
        "26362",
        "career",
        "reseau-information-jeunesse",
        9,
        "Hésite entre deux métiers, veut découvrir des entreprises.",
        (Step(8, Transition.ACKNOWLEDGE), Step(7, Transition.HOLD, reason="health", by="advisor")),
    ),
)


async def load_demo_referrals(actor: Actor, today: date | None = None) -> int:
    """Write the stories; returns how many referrals were sent."""
    today = today or local_date()
    now = datetime.combine(today, time(10, 0), tzinfo=LOCAL_TIME)
    rules = Rules()
    networks = {
        row["network"]: row["id"]
        for row in reversed(
            await Structure.select(Structure.id, Structure.network)
            .where(Structure.status == "active")
            .order_by(Structure.name)
        )
        if row["network"]
    }
    count = 0
    previous_young: UUID | None = None
    made: list[UUID] = []
    for story in STORIES:
        target = networks.get(story.network)
        if target is None or target == actor.structure_id:
            continue
        body: dict[str, object] = {
            "to_structure_id": str(target),
            "domain": story.domain,
            "message": story.message,
            "consent": {"given": True, "shares": ["age", "commune", "message"]},
        }
        if story.again and previous_young is not None:
            body["young_person_id"] = str(previous_young)
        else:
            body["young_person"] = {
                "first_name": story.first_name,
                "age_range": story.age_range,
                "commune": story.commune,
            }
        sent = await exchange.send(
            actor,
            msgspec.convert(body, ReferralCreate),
            rules,
            now=now - timedelta(days=story.days_ago),
        )
        count += 1
        made.append(sent.referral_id)
        for step in story.steps:
            who = Who(Party.ADVISOR, actor, label=actor.name) if step.by == "advisor" else PARTNER
            redirect = networks.get(step.redirect_to) if step.redirect_to else None
            done = await exchange.act(
                sent.referral_id,
                Action(
                    step.transition,
                    reason=step.reason,
                    note=step.note,
                    redirect_to_structure_id=redirect,
                ),
                who,
                rules,
                now=now - timedelta(days=step.days_ago),
            )
            count += int(done.child_id is not None)
            made.extend([done.child_id] if done.child_id else [])
        previous_young = (
            await exchange.read(sent.referral_id, Who(Party.ADVISOR, actor))
        ).young_person_id
    # The stories are history: their emails were never to go out, to anyone.
    await OutboxMessage.delete().where(OutboxMessage.referral.is_in(made))
    return count
