"""A referral's history as sentences people read ("Camille Rousset a envoyé
l'orientation", "Le Foyer a accusé réception"), not the bare verbs of the buttons."""

from __future__ import annotations

from service.referrals.machine import Party, Transition

# What the actor did, after its name: « <actor> a accusé réception ».
_DONE = {
    Transition.SEND: "a envoyé l'orientation",
    Transition.ACKNOWLEDGE: "a accusé réception",
    Transition.ACCEPT: "a accepté l'orientation",
    Transition.DECLINE: "a refusé l'orientation",
    Transition.REDIRECT: "a réorienté le jeune vers une autre structure",
    Transition.TAKE_IN: "a reçu le jeune : la prise en charge a commencé",
    Transition.NO_SHOW: "a signalé que le jeune n'est pas venu",
    Transition.CLOSE: "a clôturé l'orientation avec un résultat",
    Transition.CLOSE_FAILED: "a clôturé l'orientation sans suite",
    Transition.HOLD: "a mis l'orientation en pause",
    Transition.RESUME: "a repris l'orientation",
    Transition.CANCEL: "a annulé l'orientation",
    Transition.WITHDRAW: "a retiré son consentement",
    Transition.EXPIRE: "a clos l'orientation, restée sans réponse",
    Transition.WENT: "dit y être allé·e",
    Transition.COULD_NOT_GO: "dit ne pas avoir pu y aller",
    Transition.APPOINTMENT: "a donné un rendez-vous au jeune",
}
# How a personal link names its holder when it acts (exchange.open_link).
PARTNER_LINK_LABEL = "Partenaire (lien personnel)"
REDIRECTION_LABEL = "Réorientation"


def event_sentence(
    transition: Transition, actor_kind: str, actor_label: str, partner_name: str
) -> str:
    """One event as a sentence, naming the actor the way the reader knows them: the
    advisor by name, a partner by its structure, the young person as « Le jeune »."""
    if transition == Transition.EXPIRE:
        return "L'orientation a expiré : le délai de réponse est passé sans réponse"
    if transition == Transition.SEND and actor_label == REDIRECTION_LABEL:
        return "L'orientation a été transmise ici par une réorientation"
    return f"{_actor(actor_kind, actor_label, partner_name)} {_DONE[transition]}"


def _actor(kind: str, label: str, partner_name: str) -> str:
    if kind == Party.YOUNG_PERSON:
        return "Le jeune"
    if kind == Party.PARTNER:
        if not label or label == PARTNER_LINK_LABEL:
            return partner_name or "La structure partenaire"
        return f"{label} ({partner_name})" if partner_name else label
    if kind == Party.SYSTEM:
        return "Maillage"
    return label or "Le ou la conseiller·ère"
