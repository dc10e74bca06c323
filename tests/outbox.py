"""Waiting for the mail outbox: the server's mail worker delivers in a thread of its own
(the test client runs the app's lifespan there), so a test waits, within a bound, until
nothing is left to send before it reads the mail."""

from __future__ import annotations

import asyncio
import time

from service.referrals.tables import OutboxMessage

_waiting = OutboxMessage.sent_at.is_null() & OutboxMessage.given_up_at.is_null()


async def mail_settled(timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while await OutboxMessage.exists().where(_waiting):
        if time.monotonic() > deadline:
            raise AssertionError(f"mail still waiting in the outbox after {timeout} s")
        await asyncio.sleep(0.05)
