"""The duplicates review's request logic, shared by the page and the API: which scope a
user looks at (their territory by default, the whole of France for administrators), and
the "pas un doublon" decision."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from directory import duplicate_review as dr
from directory.duplicate_checks import PairPage
from directory.errors import Invalid
from service.accounts.store import Actor, Role
from service.permissions import check_can_review_duplicates, check_can_review_france


async def chosen_scope(actor: Actor, key: str) -> dr.Scope | None:
    """The scope asked for, else the user's own; None when they have none to default to."""
    check_can_review_duplicates(actor)
    key = key or await dr.default_scope(actor.structure_id) or ""
    if not key and actor.role == Role.ADMIN:
        key = dr.FRANCE
    if not key:
        return None
    if key == dr.FRANCE:
        check_can_review_france(actor)
    return await dr.scope_of(key)


async def api_review(actor: Actor, key: str, page: int, page_size: int) -> PairPage:
    scope = await chosen_scope(actor, key)
    if scope is None:
        raise Invalid({"scope": "Indiquez un département (d:26) ou un territoire (t:<id>)."})
    return await dr.review(scope, page, max(1, min(page_size, 100)))


async def page_context(actor: Actor, key: str, page: int) -> dict[str, Any]:
    scope = await chosen_scope(actor, key)
    choices = await dr.scope_choices()
    if actor.role == Role.ADMIN:
        choices.insert(0, (dr.FRANCE, "Toute la France"))
    return {
        "actor": actor,
        "scope": scope,
        "choices": choices,
        "pairs": await dr.review(scope, page, 20) if scope else None,
    }


def _uuid(form: Any, name: str) -> UUID:
    try:
        return UUID(str(form.get(name, "")))
    except ValueError:
        raise Invalid({name: "Fiche inconnue."}) from None


async def dismiss_from_form(form: Any, actor: Actor) -> str:
    """Record the pair as not duplicates; the address of the list to go back to."""
    check_can_review_duplicates(actor)
    await dr.dismiss(_uuid(form, "a"), _uuid(form, "b"), actor.name)
    page = str(form.get("page", "1"))
    query = {"scope": str(form.get("scope", "")), "page": page if page.isdigit() else "1"}
    return "/structures/doublons?" + urlencode({**query, "ecarte": "1"})
