"""Who may change what in the directory: coordinators and admins keep the whole directory;
an advisor or partner user keeps their own structure's entry up to date."""

from __future__ import annotations

from uuid import UUID

from directory.errors import Forbidden
from service.accounts.store import Actor, Role


def check_can_create_structure(actor: Actor) -> None:
    if not actor.can_edit_directory:
        raise Forbidden("Seuls les coordinateurs et administrateurs créent des structures.")


def check_can_edit(actor: Actor, structure_id: UUID) -> None:
    if not actor.can_edit_structure(structure_id):
        raise Forbidden("Vous ne pouvez modifier que la fiche de votre propre structure.")


def check_can_edit_conventions(actor: Actor) -> None:
    if not actor.can_edit_directory:
        raise Forbidden("Seuls les coordinateurs et administrateurs enregistrent les conventions.")


def check_can_read_import(actor: Actor, started_by: UUID | None) -> None:
    """An import's report names partner staff: the account that started it reads it, and
    coordinators and admins, who keep the whole directory."""
    if not (actor.can_edit_directory or actor.user_id == started_by):
        raise Forbidden(
            "Seuls les coordinateurs, les administrateurs et l'auteur d'un import le lisent."
        )


def check_can_confirm(actor: Actor) -> None:
    """Vouching for a record without changing it is the coordination's job."""
    if not actor.can_edit_directory:
        raise Forbidden(
            "Seuls les coordinateurs et administrateurs confirment qu'une fiche est à jour."
        )


def check_can_restore(actor: Actor) -> None:
    """Going back to an earlier version undoes someone's work: the coordination decides."""
    if not actor.can_edit_directory:
        raise Forbidden(
            "Seuls les coordinateurs et administrateurs restaurent une version antérieure."
        )


def check_can_review_duplicates(actor: Actor) -> None:
    if not actor.can_edit_directory:
        raise Forbidden("Seuls les coordinateurs et administrateurs examinent les doublons.")


def check_can_merge(actor: Actor) -> None:
    """Merging moves other people's records and referrals: the coordination decides."""
    if not actor.can_edit_directory:
        raise Forbidden("Seuls les coordinateurs et administrateurs fusionnent des fiches.")


def check_can_run_campaigns(actor: Actor) -> None:
    """A verification campaign mails many partners in the directory's name: coordination."""
    if not actor.can_edit_directory:
        raise Forbidden(
            "Seuls les coordinateurs et administrateurs lancent les campagnes de vérification."
        )


def check_can_review_france(actor: Actor) -> None:
    """The whole country's pairs take half a minute to compute: administrators only."""
    if actor.role != Role.ADMIN:
        raise Forbidden("Seuls les administrateurs examinent les doublons de toute la France.")
