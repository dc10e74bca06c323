"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, for tests."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import SMTP, Envelope


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    envelopes: list[Envelope] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    # Answer this many recipients "try again later" (451) before accepting any.
    busy: int = 0
    attempts: int = 0  # recipients offered, refused or not

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.attempts += 1
        if address in self.refused:
            return "550 5.1.1 Mailbox unknown"
        if self.busy > 0:
            self.busy -= 1
            return "451 4.3.0 Mail server busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes
        ]


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox


async def _serve(**smtp_options) -> AsyncIterator[SmtpServer]:
    inbox = Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(inbox, hostname="smtp.maillage.test", loop=loop, **smtp_options),
        "127.0.0.1",
        0,
    )
    try:
        yield SmtpServer(port=server.sockets[0].getsockname()[1], inbox=inbox)
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def smtp_server() -> AsyncIterator[SmtpServer]:
    async for running in _serve():
        yield running


@pytest.fixture
def threaded_smtp_server():
    """The same server in a thread of its own, for an app that the test client drives from
    another thread than the test's event loop."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(port=port, inbox=inbox)
    finally:
        controller.stop()
