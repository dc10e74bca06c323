"""Two parties acting at once on one referral: exactly one wins, the other is told, and
no transition is lost or doubled — on SQLite and on PostgreSQL, through a real server."""

from __future__ import annotations

import asyncio
import threading

import httpx
import msgspec

from directory.errors import Conflict
from service.accounts.store import Role, token_actor
from service.referrals import exchange
from service.referrals.exchange import Rules, Who
from service.referrals.machine import Party, Transition
from service.referrals.schemas import Action, ReferralCreate
from service.referrals.tables import Referral, ReferralEvent
from tests import factories as f
from tests.live import running_server


async def _referral() -> tuple[exchange.Sent, dict[str, str], dict[str, str]]:
    mission_locale = await f.structure("Mission Locale")
    advisor = await f.api_client_headers(Role.ADVISOR, of=mission_locale)
    partner = await f.structure("Foyer")
    await f.site(partner, "26362")
    partner_user = await f.api_client_headers(Role.ADVISOR, of=partner)
    actor = await token_actor(advisor["Authorization"].split()[1])
    data = msgspec.convert(
        {
            "to_structure_id": str(partner),
            "domain": "housing",
            "young_person": {"first_name": "Lou", "commune": "26362"},
            "consent": {"given": True},
        },
        ReferralCreate,
    )
    return await exchange.send(actor, data, Rules()), advisor, partner_user


async def test_simultaneous_answers_in_process_exactly_one_wins(database_url):
    sent, _advisor, _partner = await _referral()
    partner = Who(Party.PARTNER, label="partenaire")
    attempts = [
        Action(Transition.ACCEPT),
        Action(Transition.DECLINE, reason="no_capacity"),
        Action(Transition.ACKNOWLEDGE),
        Action(Transition.ACCEPT),
        Action(Transition.DECLINE, reason="not_eligible"),
    ]
    # gather interleaves them: every one reads version 1 before any of them writes.
    outcomes = await asyncio.gather(
        *(exchange.act(sent.referral_id, a, partner, Rules()) for a in attempts),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in losers), losers
    row = await Referral.objects().first()
    assert row.version == 2 and row.status == winners[0].to_status
    assert await ReferralEvent.count() == 2


def test_simultaneous_answers_through_a_real_server(database_url):
    sent, advisor, partner_user = asyncio.run(_referral())
    with running_server(database_url) as base:
        barrier = threading.Barrier(3)
        responses: dict[str, httpx.Response] = {}

        def fire(name: str, url: str, body: dict, headers: dict[str, str]) -> None:
            with httpx.Client(timeout=30) as http:
                barrier.wait()
                responses[name] = http.post(url, json=body, headers=headers)

        # Each party acts on the version it saw, as the pages do: whoever comes second,
        # even a split second later, is told that the referral changed under them.
        jobs = [
            (
                "link-accept",
                f"{base}/api/v1/links/{sent.partner_token}/actions",
                {"transition": "accept", "expected_version": 1},
                {},
            ),
            (
                "inbox-decline",
                f"{base}/api/v1/referrals/{sent.referral_id}/actions",
                {"transition": "decline", "reason": "no_capacity", "expected_version": 1},
                partner_user,
            ),
            (
                "advisor-cancel",
                f"{base}/api/v1/referrals/{sent.referral_id}/actions",
                {"transition": "cancel", "reason": "other_solution", "expected_version": 1},
                advisor,
            ),
        ]
        threads = [threading.Thread(target=fire, args=job) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    codes = sorted(r.status_code for r in responses.values())
    assert codes == [201, 409, 409], {k: (r.status_code, r.text) for k, r in responses.items()}
    assert all("database is locked" not in r.text for r in responses.values())
    row = asyncio.run(Referral.objects().first().run())
    events = asyncio.run(ReferralEvent.count().run())
    assert row.version == 2 and events == 2
