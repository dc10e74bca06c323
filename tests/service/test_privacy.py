"""Personal data is gone when it must be: cancelled and withdrawn referrals, a path of
redirections, what a partner sees once it no longer works on a referral."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from click.testing import CliRunner

from service import db
from service.accounts.store import Role
from service.cli import main
from service.referrals.tables import AccessLink, Consent, Referral, YoungPerson
from tests import factories as f
from tests.service.test_referrals import VALENCE, Territory, _act, _link_act, _send

# What the young person of tests.service.test_referrals shares with the partner.
PERSONAL = ("Yanis", "06 11 22 33 44", "yanis@exemple.fr", "Hébergé chez un ami")


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, mail_outbox=tmp_path / "outbox", base_url="http://maillage.test")


@pytest.fixture
async def t(database_url) -> Territory:
    return await Territory().build()


def _token(link: str) -> str:
    return link.rsplit("/", 1)[1]


def _shows_personal_data(text: str) -> list[str]:
    # The phone is shown the French way and stored (and linked) as E.164.
    return [p for p in (*PERSONAL, "+33611223344") if p in text]


async def _redirect(client, t: Territory, sent: dict) -> dict:
    response = await _link_act(
        client,
        sent["token"],
        "redirect",
        redirect_to_structure_id=str(t.third),
        note="La résidence sociale a des places.",
    )
    assert response.status_code == 201, response.text
    [child_id] = response.json()["children_ids"]
    return {"id": str(child_id)}


async def test_cancelling_a_referral_sent_by_mistake_revokes_the_partner_link(client, t):
    sent = await _send(client, t)
    assert (await client.get(f"/p/{sent['token']}")).status_code == 200
    cancelled = await _act(client, t.advisor, sent["id"], "cancel", reason="sent_by_mistake")
    assert cancelled.status_code == 201, cancelled.text

    page = await client.get(f"/p/{sent['token']}")
    assert page.status_code == 403 and "désactivé" in page.text
    assert _shows_personal_data(page.text) == []
    assert (await client.get(f"/api/v1/links/{sent['token']}")).status_code == 403


async def test_young_person_link_follows_a_redirection_to_where_to_go_now(client, t):
    sent = await _send(client, t)
    young = _token(sent["young_person_link"])
    child = await _redirect(client, t, sent)

    page = await client.get(f"/j/{young}")
    assert page.status_code == 200
    assert "Résidence sociale du Rhône" in page.text
    assert "mieux placée" in page.text
    # The structure that passed the young person on is no longer the place to go.
    assert "Foyer Jeunes Travailleurs" not in page.text and "5 avenue de Lyon" not in page.text
    api = (await client.get(f"/api/v1/links/{young}")).json()
    assert api["id"] == child["id"] and "withdraw" in api["allowed"]


async def test_young_person_withdraws_after_a_redirection_and_the_whole_path_is_erased(client, t):
    sent = await _send(client, t)
    young = _token(sent["young_person_link"])
    child = await _redirect(client, t, sent)
    child_partner = await AccessLink.objects().where(
        (AccessLink.referral == child["id"]) & (AccessLink.party == "partner")
    )
    assert len(child_partner) == 1

    page = await client.get(f"/j/{young}")
    withdrawn = await client.post(
        f"/j/{young}/actions",
        data={"transition": "withdraw", "_csrf_token": f.csrf_token(page.text)},
    )
    assert withdrawn.status_code == 200, withdrawn.text  # redirected back to the page
    assert "annulée" in withdrawn.text

    rows = {str(r.id): r for r in await Referral.objects()}
    assert rows[child["id"]].status == "cancelled"
    assert rows[sent["id"]].status == "redirected"
    assert [r.message for r in rows.values()] == ["", ""]  # the copy on the child too
    consents = await Consent.objects()
    assert len(consents) == 2 and all(c.withdrawn_at and c.shares == [] for c in consents)
    links = await AccessLink.objects().where(AccessLink.party == "partner")
    assert len(links) == 2 and all(link.revoked_at is not None for link in links)
    # Neither partner can open its link any more.
    assert (await client.get(f"/p/{sent['token']}")).status_code == 403
    assert (await client.get(f"/api/v1/links/{sent['token']}")).status_code == 403


async def test_advisor_withdraws_consent_from_the_redirected_referral(client, t):
    sent = await _send(client, t)
    child = await _redirect(client, t, sent)
    withdrawn = await _act(client, t.advisor, sent["id"], "withdraw")
    assert withdrawn.status_code == 201, withdrawn.text
    child_view = (await client.get(f"/api/v1/referrals/{child['id']}", headers=t.advisor)).json()
    assert child_view["status"] == "cancelled" and child_view["consent_withdrawn"]
    assert child_view["message"] == ""


async def test_partner_inbox_forgets_the_first_name_after_withdrawal(client, t):
    sent = await _send(client, t)
    await f.logged_in(client, Role.ADVISOR, of=t.partner)
    before = await client.get("/orientations/recues")
    assert "Yanis" in before.text
    young = _token(sent["young_person_link"])
    assert (await _link_act(client, young, "withdraw")).status_code == 201

    inbox = await client.get("/orientations/recues")
    assert inbox.status_code == 200 and "Yanis" not in inbox.text
    assert "Prénom masqué" in inbox.text
    listed = await client.get("/api/v1/referrals?box=in", headers=t.partner_user)
    assert [item["young_first_name"] for item in listed.json()] == [""]
    detail = await client.get(f"/orientations/{sent['id']}")
    assert detail.status_code == 200 and _shows_personal_data(detail.text) == []


@pytest.mark.parametrize(
    ("steps", "status"),
    [
        ([("decline", {"reason": "no_capacity", "note": "Complet"})], "declined"),
        (
            [
                ("accept", {}),
                ("take_in", {}),
                ("close", {"reason": "need_met", "note": "Yanis est logé."}),
            ],
            "completed",
        ),
    ],
)
async def test_partner_link_shows_no_personal_data_once_the_referral_is_closed(
    client, t, steps, status
):
    everything = ["age", "commune", "phone", "email", "message"]
    sent = await _send(client, t, consent={"given": True, "shares": everything})
    page = await client.get(f"/p/{sent['token']}")
    assert len(_shows_personal_data(page.text)) == 5  # all shared while it is open
    for transition, fields in steps:
        response = await _link_act(client, sent["token"], transition, **fields)
        assert response.status_code == 201, response.text

    page = await client.get(f"/p/{sent['token']}")
    assert page.status_code == 200 and "est close" in page.text
    assert _shows_personal_data(page.text) == []
    api = (await client.get(f"/api/v1/links/{sent['token']}")).json()
    assert api["status"] == status
    assert api["young_person"] == {} and api["message"] == ""
    assert all(event["note"] == "" for event in api["events"])
    # The referent advisor still sees everything.
    advisor = (await client.get(f"/api/v1/referrals/{sent['id']}", headers=t.advisor)).json()
    assert advisor["young_person"]["first_name"] == "Yanis" and advisor["message"]


# ---- maillage purge ------------------------------------------------------------------------


async def _purge(database_url: str, *options: str):
    """The real command, in a thread: it runs its own event loop, as from a shell."""
    args = ["--database-url", database_url, "purge", *options]
    result = await asyncio.to_thread(CliRunner().invoke, main, args)
    assert result.exit_code == 0, result.output
    return result.output


async def _everything_stored() -> str:
    """Every value of every table Maillage writes, the mail outbox included."""
    values = []
    for table in db.all_tables():
        for row in await table.select():
            values.extend(str(v) for v in row.values())
    return "\n".join(values)


async def _closed_referral_with_notes(client, t: Territory) -> dict:
    everything = ["age", "commune", "phone", "email", "message"]
    sent = await _send(client, t, consent={"given": True, "shares": everything})
    await _link_act(client, sent["token"], "acknowledge", note="Bien reçu pour Yanis.")
    declined = await _link_act(
        client, sent["token"], "decline", reason="other", note="Yanis a déjà un logement."
    )
    assert declined.status_code == 201, declined.text
    return sent


async def test_purge_dry_run_lists_what_it_would_erase_and_erases_nothing(client, t, database_url):
    sent = await _closed_referral_with_notes(client, t)
    closed = (await Referral.objects().first()).closed_at
    before = await _everything_stored()

    early = await _purge(database_url, "--now", (closed + timedelta(days=30)).date().isoformat())
    assert "0 jeune(s) anonymisé(s)" in early

    day = (closed + timedelta(days=800)).date().isoformat()
    output = await _purge(database_url, "--now", day, "--dry-run")
    assert "Simulation : rien n'a été effacé." in output
    assert "1 jeune(s) seraient anonymisé(s)." in output
    assert "1 message(s) d'orientation" in output and "1 message(s) du partenaire" in output
    assert "2 note(s) d'historique" in output and "2 lien(s) personnel(s)" in output
    assert f"jeune {(await YoungPerson.objects().first()).id}" in output
    assert _shows_personal_data(output) == []  # the report names no one
    assert await _everything_stored() == before  # not even an audit entry
    assert (await client.get(f"/p/{sent['token']}")).status_code == 200


async def test_purge_leaves_no_personal_data_anywhere_and_keeps_the_statistics(
    client, t, database_url
):
    sent = await _closed_referral_with_notes(client, t)
    other = await _send(
        client,
        t,
        young_person={"first_name": "Lina", "commune": VALENCE},
        message="Cherche une formation.",
    )
    closed = (await Referral.objects().where(Referral.id == sent["id"]).first()).closed_at
    assert _shows_personal_data(await _everything_stored())

    day = (closed + timedelta(days=800)).date().isoformat()
    output = await _purge(database_url, "--now", day)
    assert "1 jeune(s) anonymisé(s)." in output and "Simulation" not in output
    assert _shows_personal_data(await _everything_stored()) == []
    assert "Lina" in await _everything_stored()  # an open referral keeps its young person

    # The links opened nothing any more; the advisor's view keeps what statistics need.
    assert (await client.get(f"/p/{sent['token']}")).status_code == 403
    assert (await client.get(f"/j/{_token(sent['young_person_link'])}")).status_code == 403
    view = (await client.get(f"/api/v1/referrals/{sent['id']}", headers=t.advisor)).json()
    assert view["young_person"]["first_name"] == "Anonyme"
    assert (view["status"], view["domain"], view["decline_reason"]) == (
        "declined",
        "housing",
        "other",
    )
    assert view["young_person"]["commune"] == VALENCE
    assert view["young_person"]["age_range"] == "18-21"
    assert [e["transition"] for e in view["events"]] == ["send", "acknowledge", "decline"]
    assert (await client.get(f"/api/v1/links/{other['token']}")).status_code == 200
    trail = await client.get(f"/api/v1/audit/referrals/{sent['id']}", headers=t.advisor)
    assert ("maillage purge", "change", "purge") in [
        (e["actor_label"], e["action"], e["detail"]) for e in trail.json()
    ]

    again = await _purge(database_url, "--now", day)
    assert "0 jeune(s) anonymisé(s)." in again


def test_purge_refuses_a_date_it_cannot_read(database_url):
    result = CliRunner().invoke(main, ["--database-url", database_url, "purge", "--now", "demain"])
    assert result.exit_code == 2
    assert "« demain » n'est pas une date" in result.output
