"""Starting a verification campaign: which structures it asks, to which address, and the
first mail, all in one transaction.

Who is asked: the active structures of a territory (those with a site in one of its
communes) or of a selection, whose entry was last verified at least `older_than_months`
ago, or never.

Where the mail goes (the "named contact"), first found wins:
1. the structure's own general email, which the structure reads as a whole;
2. else the email of an active person named as the contact of one of its services, since
   that person already answers for the structure in the directory;
3. else the email of any active person of the structure (alphabetical, to be stable).
A structure with none of these is still a target, marked "sans courriel — à appeler".

Idempotent: a structure is targeted once per campaign (unique key), each mail has a unique
outbox key, and starting a campaign identical to an open one (same name, scope and months)
continues that one: only structures it does not hold yet are added and mailed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from piccolo.engine.postgres import PostgresEngine

from directory.errors import Invalid
from directory.freshness import months_between
from directory.hours import LOCAL_TIME
from directory.store import writing
from directory.tables import Person, Service, Site, Structure, Territory
from directory.validation import display_phone
from service import entry_links, outbox
from service.accounts.store import Actor
from service.campaigns.tables import Campaign, CampaignTarget, EntryLink

LINK_DAYS = 60
START_LOCK = 74_726_001  # any number of our own, for pg_advisory_xact_lock
MAX_MONTHS = 120


@dataclass(frozen=True)
class CampaignSpec:
    """What a coordinator asks for: a territory, or a selection of structures."""

    name: str
    territory_id: UUID | None = None
    structure_ids: list[UUID] = field(default_factory=list)
    older_than_months: int = 12


@dataclass(frozen=True)
class Candidate:
    structure_id: UUID
    name: str
    email: str
    phone: str
    verified_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


async def check(spec: CampaignSpec) -> None:
    """Every problem at once, each under its field's name; nothing is written."""
    errors: dict[str, str] = {}
    if not spec.name.strip():
        errors["name"] = "Donnez un nom à la campagne."
    elif len(spec.name.strip()) > 200:
        errors["name"] = "Le nom de la campagne tient en 200 caractères au plus."
    if not 1 <= spec.older_than_months <= MAX_MONTHS:
        errors["older_than_months"] = f"Un nombre de mois entre 1 et {MAX_MONTHS}."
    if (spec.territory_id is None) == (not spec.structure_ids):
        errors["territory_id"] = "Choisissez un territoire, ou une sélection de structures."
    elif spec.territory_id is not None:
        if not await Territory.exists().where(Territory.id == spec.territory_id):
            errors["territory_id"] = "Ce territoire n'existe pas."
    else:
        known = await Structure.count().where(Structure.id.is_in(list(set(spec.structure_ids))))
        if known != len(set(spec.structure_ids)):
            errors["structure_ids"] = "Certaines structures de la sélection n'existent pas."
    if errors:
        raise Invalid(errors)


async def _in_scope(spec: CampaignSpec) -> list[UUID]:
    if spec.territory_id is None:
        return list(dict.fromkeys(spec.structure_ids))
    territory = await Territory.select(Territory.communes).where(Territory.id == spec.territory_id)
    communes = list(territory[0]["communes"]) if territory else []
    if not communes:
        return []
    rows = await Site.select(Site.structure).where(Site.commune.is_in(communes))
    return list(dict.fromkeys(row["structure"] for row in rows))


async def contact_emails(structure_ids: list[UUID]) -> dict[UUID, str]:
    """The named contact's address of each structure, by the order in the module's doc."""
    if not structure_ids:
        return {}
    people = (
        await Person.select(Person.id, Person.structure, Person.email)
        .where(Person.structure.is_in(structure_ids) & (Person.active == True))  # noqa: E712
        .order_by(Person.last_name)
        .order_by(Person.first_name)
    )
    contacts = {
        row["contact"]
        for row in await Service.select(Service.contact).where(
            Service.structure.is_in(structure_ids) & Service.contact.is_not_null()
        )
    }
    found: dict[UUID, str] = {}
    for person in sorted(people, key=lambda p: p["id"] not in contacts):
        if person["email"]:
            found.setdefault(person["structure"], person["email"])
    return found


async def candidates(spec: CampaignSpec, now: datetime | None = None) -> list[Candidate]:
    """The structures the campaign asks, with the address each would be mailed at."""
    now = now or _now()
    ids = await _in_scope(spec)
    if not ids:
        return []
    rows = (
        await Structure.select(
            Structure.id, Structure.name, Structure.email, Structure.phone, Structure.verified_at
        )
        .where(Structure.id.is_in(ids) & (Structure.status == "active"))
        .order_by(Structure.name)
    )
    stale = [
        row
        for row in rows
        if row["verified_at"] is None
        or months_between(row["verified_at"], now) >= spec.older_than_months
    ]
    people = await contact_emails([row["id"] for row in stale if not row["email"]])
    return [
        Candidate(
            row["id"],
            row["name"],
            row["email"] or people.get(row["id"], ""),
            row["phone"],
            row["verified_at"],
        )
        for row in stale
    ]


def mail_key(campaign_id: UUID, structure_id: UUID, number: int) -> str:
    """One outbox key per target and mail: 0 the invitation, 1 and 2 the reminders."""
    return f"campaign:{campaign_id}:{structure_id}:{number}"


async def mail(
    campaign: dict[str, Any], target: Candidate, number: int, now: datetime
) -> tuple[UUID, bool]:
    """A fresh link for the target, and its mail in the outbox; call inside a transaction.
    Returns the link's id and whether the mail was written (False: already was)."""
    # Every link of a campaign, reminders' included, works until the campaign's end.
    closes_at = campaign["closes_at"] or now + timedelta(days=LINK_DAYS)
    days = max(1, (closes_at - now).days)
    token = await entry_links.issue(
        target.structure_id, "campaign", days=days, campaign_id=campaign["id"], now=now
    )
    link = await EntryLink.select(EntryLink.id).where(
        EntryLink.token_hash == entry_links.digest(token)
    )
    written = await outbox.enqueue(
        mail_key(campaign["id"], target.structure_id, number),
        "campaign_reminder" if number else "campaign_invitation",
        "campaign_invitation",
        to=target.email,
        context={
            "link": entry_links.url(token),
            "structure_name": target.name,
            "reminder": number,
            "expires_on": (now + timedelta(days=days)).astimezone(LOCAL_TIME).strftime("%d/%m/%Y"),
            **(contact := await helpline(campaign)),
            "helpline_phone": display_phone(contact["helpline_phone"]),
        },
        now=now,
    )
    return link[0]["id"], written


async def helpline(campaign: dict[str, Any]) -> dict[str, str]:
    """Who a partner calls with a question: the coordinator who started the campaign, at
    their structure's phone number; for a campaign started from the command line, the
    structure that keeps the territory (its Mission Locale)."""
    from service.accounts.tables import User

    name, email, structure_id = campaign.get("created_by_name", ""), "", None
    if campaign.get("created_by"):
        user = await User.select(User.email, User.structure).where(
            User.id == campaign["created_by"]
        )
        if user:
            email, structure_id = user[0]["email"], user[0]["structure"]
    elif campaign.get("territory"):
        territory = await Territory.select(Territory.structure).where(
            Territory.id == campaign["territory"]
        )
        structure_id = territory[0]["structure"] if territory else None
    row = None
    if structure_id is not None:
        row = await Structure.select(Structure.name, Structure.phone, Structure.email).where(
            Structure.id == structure_id
        )
    if row and not name:
        name, email = row[0]["name"], row[0]["email"]
    return {
        "helpline_name": name or "la Mission Locale",
        "helpline_email": email,
        "helpline_phone": row[0]["phone"] if row else "",
    }


async def _same_open(spec: CampaignSpec) -> dict[str, Any] | None:
    selection = json.dumps(sorted(str(i) for i in set(spec.structure_ids)))
    return (
        await Campaign.select()
        .where(
            (Campaign.name == spec.name.strip())
            & (Campaign.status == "open")
            & (Campaign.older_than_months == spec.older_than_months)
            & (
                (Campaign.territory == spec.territory_id)
                if spec.territory_id
                else Campaign.territory.is_null()
            )
            & (Campaign.selection == selection)
        )
        .first()
    )


async def start(
    spec: CampaignSpec, actor: Actor | None, now: datetime | None = None
) -> tuple[UUID, bool]:
    """Starts the campaign, or continues the identical open one; returns its id and
    whether it is new. One transaction: the campaign, its targets, links and mails."""
    await check(spec)
    now = now or _now()
    targets = await candidates(spec, now)
    async with writing():
        if isinstance(Campaign._meta.db, PostgresEngine):
            # Two identical starts at once must find each other (SQLite writers already
            # queue): campaign starts take turns until their transaction ends.
            await Campaign.raw("SELECT pg_advisory_xact_lock({})", START_LOCK)
        campaign = await _same_open(spec)
        created = campaign is None
        if campaign is None:
            row = Campaign(
                name=spec.name.strip(),
                territory=spec.territory_id,
                selection=json.dumps(sorted(str(i) for i in set(spec.structure_ids))),
                older_than_months=spec.older_than_months,
                created_by=actor.user_id if actor else None,
                created_by_name=actor.name if actor else "",
                created_at=now,
                closes_at=now + timedelta(days=LINK_DAYS),
            )
            await row.save()
            campaign = (await Campaign.select().where(Campaign.id == row.id))[0]
        await _target(campaign, targets, now)
    outbox.wake()
    return campaign["id"], created


async def _target(campaign: dict[str, Any], targets: list[Candidate], now: datetime) -> None:
    held = {
        row["structure"]
        for row in await CampaignTarget.select(CampaignTarget.structure).where(
            CampaignTarget.campaign == campaign["id"]
        )
    }
    for target in targets:
        if target.structure_id in held:
            continue
        link_id = None
        if target.email:
            link_id, _written = await mail(campaign, target, 0, now)
        await CampaignTarget(
            campaign=campaign["id"],
            structure=target.structure_id,
            key=f"{campaign['id']}:{target.structure_id}",
            email=target.email,
            link=link_id,
            sent_at=now if target.email else None,
        ).save()
