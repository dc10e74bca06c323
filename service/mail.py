"""Outgoing mail: what a message is, how it is built, and two ways to send it.

- `SmtpMailer` hands messages to an SMTP server through aiosmtplib.
- `OutboxMailer` writes each message as an .eml file into a folder; it is the default
  when no SMTP host is configured, so the demo works offline and nothing leaves the
  machine. Open the files with any mail client to see what would have been sent.

Templates live in templates/emails/<name>.txt and <name>.html and are rendered by
`TemplatedMail`. The convention for the subject: the first line of the .txt template is
``Objet : <subject>`` (any spacing around the colon, non-breaking spaces included); it
becomes the subject and is removed from the plain-text body, along with the blank lines
that follow it. The HTML template receives the same context plus ``subject`` (for its
<title>), and may ``{% extends "emails/_layout.html" %}``. Autoescaping is on for the
.html template only: a value is escaped in the HTML part and left as typed in the text
part. A variable missing from the context is an error, never a silent blank.

Sending can fail (server down, recipient refused): callers catch `MailError`. Template
mistakes (missing template, missing variable) are programming errors and surface as
Jinja2's own exceptions, so they are not mistaken for a server to retry later.
"""

from __future__ import annotations

import itertools
import os
import re
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol
from uuid import uuid4

import aiosmtplib
import anyio.to_thread
import jinja2

from service.settings import ROOT

if TYPE_CHECKING:
    from service.settings import Settings

SENDER_NAME = "Maillage"
TEMPLATES = ROOT / "templates"

# Headers the message builder owns; a caller's extra header must not replace them.
_RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "reply-to",
        "sender",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "auto-submitted",
    }
)
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field name: printable ASCII but ':'
_SUBJECT_LINE = re.compile(r"^\s*Objet\s*:\s*(?P<subject>.*?)\s*$")


class MailError(Exception):
    """A message could not be sent or stored; the text names the server or folder and why.
    `permanent` when trying again cannot help (the server refused the address for good)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def _single_line(field_name: str, value: str) -> None:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{field_name} must be a single line")


def _check_address(field_name: str, value: str) -> None:
    _single_line(field_name, value)
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(c in value for c in " ,;<>\t"):
        raise ValueError(f"{field_name} must be one e-mail address, got {value!r}")


@dataclass(frozen=True)
class Email:
    """One message to one recipient, in plain text and HTML."""

    to: str
    subject: str
    text: str
    html: str
    reply_to: str = ""
    # Extra headers, e.g. {"X-Maillage-Referral": "<uuid>"}; stored read-only.
    headers: Mapping[str, str] = field(default_factory=dict)
    # The left part of a stable Message-ID, so that a message sent twice shows once.
    message_id: str = ""

    def __post_init__(self) -> None:
        _check_address("to", self.to)
        if self.reply_to:
            _check_address("reply_to", self.reply_to)
        _single_line("subject", self.subject)
        if self.message_id and not re.fullmatch(r"[A-Za-z0-9._-]+", self.message_id):
            raise ValueError("message_id may hold letters, digits, '.', '_' and '-' only")
        if not self.subject.strip():
            raise ValueError("subject must not be empty")
        for name, value in self.headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"header name {name!r} is not a valid header field name")
            if name.lower() in _RESERVED_HEADERS:
                raise ValueError(f"header {name!r} is set by Maillage and cannot be overridden")
            _single_line(f"header {name}", value)
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))


class Mailer(Protocol):
    async def send(self, email: Email) -> Path | None:
        """Sends or stores the message; returns the file written, if any."""
        ...


def _message_id_domain(sender: str) -> str:
    domain = sender.rpartition("@")[2]
    # make_msgid() would otherwise ask the system for its FQDN, which can be slow.
    return domain if "." in domain else "maillage.localhost"


def build_message(email: Email, sender: str) -> EmailMessage:
    """A multipart/alternative UTF-8 message, ready for SMTP or an .eml file."""
    _check_address("sender", sender)
    message = EmailMessage()
    message["From"] = Address(SENDER_NAME, addr_spec=sender)
    message["To"] = email.to
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=True)
    domain = _message_id_domain(sender)
    message["Message-ID"] = (
        f"<{email.message_id}@{domain}>"
        if email.message_id
        else make_msgid(idstring="maillage", domain=domain)
    )
    # Notifications are machine-sent: tell out-of-office responders not to answer (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps accents intact through any relay, and long lines within limits.
    message.set_content(email.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # After the content: setting it clears every Content-* header (Content-Language).
    for name, value in email.headers.items():
        message[name] = value
    return message


class SmtpMailer:
    """Sends through an SMTP server, one connection per message."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        use_tls: bool = False,
        timeout: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if starttls and use_tls:
            raise ValueError("starttls and use_tls are exclusive: choose one way to encrypt")
        _check_address("sender", sender)
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self._password = password
        self.starttls = starttls
        self.use_tls = use_tls
        self.timeout = timeout
        # Only needed to trust a private certificate authority; the system's otherwise.
        self.tls_context = tls_context

    def __repr__(self) -> str:
        return f"SmtpMailer({self.host}:{self.port}, sender={self.sender!r})"

    async def send(self, email: Email) -> None:
        message = build_message(email, self.sender)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username or None,
                password=self._password or None,
                use_tls=self.use_tls,
                # Never an opportunistic upgrade: either required, or not attempted.
                start_tls=self.starttls,
                timeout=self.timeout,
                tls_context=self.tls_context,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            reasons = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
            raise MailError(
                f"SMTP server {self.host}:{self.port} refused recipient {email.to}: {reasons}",
                # 5xx: the address is refused for good; 4xx: try again later.
                permanent=all(500 <= r.code < 600 for r in error.recipients),
            ) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            reason = str(error) or type(error).__name__
            raise MailError(
                f"could not send mail through SMTP server {self.host}:{self.port}: {reason}"
            ) from error


_sequence = itertools.count()


class OutboxMailer:
    """Writes each message as an .eml file into a folder instead of sending it.

    File names sort by the time of writing and never collide:
    ``20250314T091502.123456Z-000003-1f2e3d4c.eml``. Each file appears whole or not at
    all (written to a hidden temporary file, then renamed), readable by its owner only
    since messages may carry personal data.
    """

    def __init__(self, folder: Path, sender: str) -> None:
        _check_address("sender", sender)
        self.folder = Path(folder)
        self.sender = sender

    def __repr__(self) -> str:
        return f"OutboxMailer({str(self.folder)!r}, sender={self.sender!r})"

    async def send(self, email: Email) -> Path:
        data = build_message(email, self.sender).as_bytes()
        try:
            return await anyio.to_thread.run_sync(self._write, data)
        except OSError as error:
            raise MailError(f"could not write mail into outbox {self.folder}: {error}") from error

    def _file_name(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        return f"{stamp}-{next(_sequence) % 1_000_000:06d}-{uuid4().hex[:8]}.eml"

    def _write(self, data: bytes) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / self._file_name()
        descriptor, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target


def mailer_from_settings(settings: Settings) -> Mailer:
    """SMTP when a host is configured, otherwise the outbox folder."""
    if settings.smtp_host:
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_sender,
            username=settings.smtp_username,
            password=settings.smtp_password,
            # Implicit TLS already encrypts the connection; STARTTLS would be refused.
            starttls=settings.smtp_starttls and not settings.smtp_tls,
            use_tls=settings.smtp_tls,
        )
    return OutboxMailer(settings.mail_outbox, settings.mail_sender)


class TemplatedMail:
    """Renders templates/emails/<name>.txt and .html into an `Email`.

    Extra headers or a Reply-To are added by the caller with `dataclasses.replace`, so
    that every keyword given to `render` is template context.
    """

    def __init__(self, templates: Path = TEMPLATES) -> None:
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html",), disabled_extensions=("txt",), default=False
            ),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        from service.templating import install_i18n

        install_i18n(self.environment)

    def render(self, name: str, to: str, /, **context: Any) -> Email:
        text_template = f"emails/{name}.txt"
        first, _, body = (
            self.environment.get_template(text_template).render(context).partition("\n")
        )
        match = _SUBJECT_LINE.match(first)
        if not match or not match["subject"]:
            raise ValueError(f"{text_template} must start with a line 'Objet : <subject>'")
        subject = " ".join(match["subject"].split())
        html = self.environment.get_template(f"emails/{name}.html").render(
            {"subject": subject, **context}
        )
        return Email(to=to, subject=subject, text=body.lstrip("\n"), html=html)
