"""The referral life cycle, in one table that one can read in one screen. The server
checks every transition here; pages only hide buttons for comfort."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DECLINED = "declined"
    REDIRECTED = "redirected"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self in OPEN


STATUS_LABELS = {
    Status.DRAFT: "Brouillon",
    Status.SENT: "Envoyée",
    Status.RECEIVED: "Reçue par le partenaire",
    Status.ACCEPTED: "Acceptée",
    Status.IN_PROGRESS: "Jeune pris·e en charge",
    Status.COMPLETED: "Terminée",
    Status.DECLINED: "Refusée",
    Status.REDIRECTED: "Réorientée",
    Status.ON_HOLD: "En pause",
    Status.CANCELLED: "Annulée",
    Status.EXPIRED: "Expirée sans réponse",
    Status.FAILED: "Sans suite",
}

OPEN = frozenset(
    {
        Status.DRAFT,
        Status.SENT,
        Status.RECEIVED,
        Status.ACCEPTED,
        Status.IN_PROGRESS,
        Status.ON_HOLD,
    }
)
# States whose deadlines run: waiting for the partner to acknowledge or to answer.
AWAITING_PARTNER = frozenset({Status.SENT, Status.RECEIVED})


class Party(StrEnum):
    ADVISOR = "advisor"
    PARTNER = "partner"
    YOUNG_PERSON = "young_person"
    SYSTEM = "system"


class Transition(StrEnum):
    SEND = "send"
    ACKNOWLEDGE = "acknowledge"
    ACCEPT = "accept"
    DECLINE = "decline"
    REDIRECT = "redirect"
    TAKE_IN = "take_in"
    NO_SHOW = "no_show"
    CLOSE = "close"
    CLOSE_FAILED = "close_failed"
    HOLD = "hold"
    RESUME = "resume"
    CANCEL = "cancel"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    # The young person's own word; the state does not change, the advisor is told.
    WENT = "went"
    COULD_NOT_GO = "could_not_go"
    # The partner gives (or changes) an appointment: no state change, an event all the same.
    APPOINTMENT = "appointment"

    @property
    def label(self) -> str:
        return TRANSITION_LABELS[self]


TRANSITION_LABELS = {
    Transition.SEND: "Envoyer",
    Transition.ACKNOWLEDGE: "Accuser réception",
    Transition.ACCEPT: "Accepter",
    Transition.DECLINE: "Refuser",
    Transition.REDIRECT: "Réorienter vers une autre structure",
    Transition.TAKE_IN: "Signaler la prise en charge (premier rendez-vous tenu)",
    Transition.NO_SHOW: "Signaler que le jeune n'est pas venu",
    Transition.CLOSE: "Clôturer avec un résultat",
    Transition.CLOSE_FAILED: "Clôturer sans suite",
    Transition.HOLD: "Mettre en pause",
    Transition.RESUME: "Reprendre",
    Transition.CANCEL: "Annuler",
    Transition.WITHDRAW: "Retirer le consentement",
    Transition.EXPIRE: "Expirer",
    Transition.WENT: "J'y suis allé·e",
    Transition.COULD_NOT_GO: "Je n'ai pas pu y aller",
    Transition.APPOINTMENT: "Donner un rendez-vous",
}


@dataclass(frozen=True)
class Rule:
    to: Status | None  # None: back to the state before the pause, or stays (see `stays`)
    by: frozenset[Party]
    needs_reason: bool = False
    reasons: tuple[str, ...] = field(default=())
    stays: bool = False
    # The young person's word is said once: a second answer is refused, not recorded.
    once: bool = False


A, P, Y, S = Party.ADVISOR, Party.PARTNER, Party.YOUNG_PERSON, Party.SYSTEM

DECLINE_REASONS = {
    "not_eligible": "Le jeune ne correspond pas aux critères du service",
    "no_capacity": "Plus de place ou de créneau disponible",
    "outside_zone": "Hors de notre zone d'intervention",
    "wrong_service": "Notre structure n'est pas la bonne pour ce besoin",
    "already_followed": "Le jeune est déjà suivi par ailleurs",
    "other": "Autre raison (précisée dans le message)",
}
FAILURE_REASONS = {
    "no_show": "Le jeune n'est pas venu",
    "unreachable": "Le jeune est injoignable",
    "young_person_gave_up": "Le jeune a renoncé",
    "need_changed": "Le besoin a changé",
    "other": "Autre raison (précisée dans le message)",
}
HOLD_REASONS = {
    "young_person_time": "Le jeune a besoin de temps",
    "health": "Raison de santé",
    "other_priority": "Une autre démarche passe d'abord",
    "other": "Autre raison",
}
CANCEL_REASONS = {
    "no_longer_needed": "Le besoin n'existe plus",
    "other_solution": "Une autre solution a été trouvée",
    "sent_by_mistake": "Envoyée par erreur",
    "consent_withdrawn": "Le jeune a retiré son consentement",
    "other": "Autre raison",
}
# Why the young person could not go: their own words, short enough for a phone.
COULD_NOT_GO_REASONS = {
    "transport": "Un problème de transport",
    "opening_hours": "Les horaires ne m’allaient pas",
    "worry": "J’avais peur, ou je n’étais pas à l’aise",
    "health": "Un problème de santé",
    "something_else": "Autre chose",
}
# The young person's answer as the advisor reads it, in lists and on the referral page.
YOUNG_PERSON_SAYS = {
    "went": "Le jeune dit y être allé·e",
    "could_not_go": "Le jeune dit ne pas avoir pu y aller",
}
OUTCOMES = {
    "need_met": "Besoin satisfait",
    "ongoing_support": "Accompagnement en cours dans la structure",
    "partly_met": "Besoin en partie satisfait",
}
# Every reason's label, for pages and emails.
REASON_LABELS = {
    **DECLINE_REASONS,
    **FAILURE_REASONS,
    **HOLD_REASONS,
    **CANCEL_REASONS,
    **COULD_NOT_GO_REASONS,
    **OUTCOMES,
}

_ANY_OPEN = (Status.SENT, Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS)

TRANSITIONS: dict[tuple[Status, Transition], Rule] = {
    (Status.DRAFT, Transition.SEND): Rule(Status.SENT, frozenset({A})),
    (Status.SENT, Transition.ACKNOWLEDGE): Rule(Status.RECEIVED, frozenset({P})),
    # Accepting straight away also acknowledges.
    (Status.SENT, Transition.ACCEPT): Rule(Status.ACCEPTED, frozenset({P})),
    (Status.RECEIVED, Transition.ACCEPT): Rule(Status.ACCEPTED, frozenset({P})),
    (Status.SENT, Transition.DECLINE): Rule(
        Status.DECLINED, frozenset({P}), True, tuple(DECLINE_REASONS)
    ),
    (Status.RECEIVED, Transition.DECLINE): Rule(
        Status.DECLINED, frozenset({P}), True, tuple(DECLINE_REASONS)
    ),
    (Status.SENT, Transition.REDIRECT): Rule(Status.REDIRECTED, frozenset({P})),
    (Status.RECEIVED, Transition.REDIRECT): Rule(Status.REDIRECTED, frozenset({P})),
    (Status.ACCEPTED, Transition.TAKE_IN): Rule(Status.IN_PROGRESS, frozenset({P})),
    (Status.ACCEPTED, Transition.NO_SHOW): Rule(Status.FAILED, frozenset({P})),
    (Status.IN_PROGRESS, Transition.CLOSE): Rule(
        Status.COMPLETED, frozenset({P}), True, tuple(OUTCOMES)
    ),
    (Status.IN_PROGRESS, Transition.CLOSE_FAILED): Rule(
        Status.FAILED, frozenset({P}), True, tuple(FAILURE_REASONS)
    ),
    **{
        (state, Transition.HOLD): Rule(Status.ON_HOLD, frozenset({A}), True, tuple(HOLD_REASONS))
        for state in _ANY_OPEN
    },
    (Status.ON_HOLD, Transition.RESUME): Rule(None, frozenset({A})),
    **{
        (state, Transition.CANCEL): Rule(
            Status.CANCELLED, frozenset({A}), True, tuple(CANCEL_REASONS)
        )
        for state in (Status.DRAFT, *_ANY_OPEN, Status.ON_HOLD)
    },
    **{
        (state, Transition.WITHDRAW): Rule(Status.CANCELLED, frozenset({Y, A}))
        for state in (Status.DRAFT, *_ANY_OPEN, Status.ON_HOLD)
    },
    **{
        (state, Transition.WENT): Rule(None, frozenset({Y}), stays=True, once=True)
        for state in _ANY_OPEN
    },
    **{
        (state, Transition.COULD_NOT_GO): Rule(
            None, frozenset({Y}), True, tuple(COULD_NOT_GO_REASONS), stays=True, once=True
        )
        for state in _ANY_OPEN
    },
    (Status.SENT, Transition.EXPIRE): Rule(Status.EXPIRED, frozenset({S})),
    (Status.RECEIVED, Transition.EXPIRE): Rule(Status.EXPIRED, frozenset({S})),
}


class IllegalTransition(Exception):
    """Carries a French message that names the state and the refused action."""


def rule_for(status: Status, transition: Transition, party: Party) -> Rule:
    rule = TRANSITIONS.get((status, transition))
    if rule is None:
        raise IllegalTransition(
            f"Impossible de « {transition.label.lower()} » une orientation dont l'état est "
            f"« {status.label.lower()} »."
        )
    if party not in rule.by:
        raise IllegalTransition(
            f"« {transition.label} » n'est pas une action permise à ce participant."
        )
    return rule


def allowed(
    status: Status, party: Party, said: frozenset[Transition] = frozenset()
) -> list[Transition]:
    """What `party` may do now; pages use it to show buttons, the server re-checks.
    `said` holds the once-only answers already given: once one is given, none is offered."""
    return [
        t
        for (s, t), rule in TRANSITIONS.items()
        if s == status and party in rule.by and not (rule.once and said)
    ]


ONCE_ONLY = frozenset(t for (_s, t), rule in TRANSITIONS.items() if rule.once)
