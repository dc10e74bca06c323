"""Outgoing mail, through a real SMTP server (aiosmtpd) listening on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import anyio
import jinja2
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword, Session

from service.mail import (
    Email,
    MailError,
    OutboxMailer,
    SmtpMailer,
    TemplatedMail,
    build_message,
    mailer_from_settings,
)
from service.settings import Settings
from tests.smtp import _serve

SENDER = "ne-pas-repondre@maillage.test"
USERNAME, PASSWORD = "maillage", "un secret de relais"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _referral_email(**changes) -> Email:
    values = {
        "to": "accueil@espace-sante-valence.fr",
        "subject": "Orientation reçue : Élodie, 19 ans, à l’Espace Santé",
        "text": "Bonjour,\n\nÉlodie a été orientée vers vous pour un bilan de santé. Ça presse.\n",
        "html": "<p>Bonjour,</p><p>Élodie a été orientée vers vous pour un bilan de santé.</p>",
        "reply_to": "camille.martin@ml-valence.fr",
        "headers": {"X-Maillage-Referral": "6f1c2a9e-0b7d-4c1e-9a4f-2d8e5b3c7a10"},
    }
    values.update(changes)
    return Email(**values)


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    # SMTP carries CRLF line ends; compare with what was written.
    return tuple(p.get_content().replace("\r\n", "\n") for p in (text, html))


async def test_smtp_delivers_both_parts_with_headers_and_accents(smtp_server):
    mailer = SmtpMailer("127.0.0.1", smtp_server.port, SENDER, timeout=5)

    await mailer.send(_referral_email())

    [envelope] = smtp_server.inbox.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == ["accueil@espace-sante-valence.fr"]
    # Encoded for any relay: accents travel as quoted-printable and RFC 2047 words.
    assert envelope.content.isascii()
    [message] = smtp_server.inbox.messages()
    assert message["From"] == f"Maillage <{SENDER}>"
    assert message["From"].addresses[0].display_name == "Maillage"
    assert message["To"] == "accueil@espace-sante-valence.fr"
    assert message["Reply-To"] == "camille.martin@ml-valence.fr"
    assert message["Subject"] == "Orientation reçue : Élodie, 19 ans, à l’Espace Santé"
    assert message["X-Maillage-Referral"] == "6f1c2a9e-0b7d-4c1e-9a4f-2d8e5b3c7a10"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"].datetime is not None
    assert message["Message-ID"].endswith("@maillage.test>")
    assert message.get_content_type() == "multipart/alternative"
    text, html = _parts(message)
    assert (
        text == "Bonjour,\n\nÉlodie a été orientée vers vous pour un bilan de santé. Ça presse.\n"
    )
    assert "<p>Élodie a été orientée vers vous pour un bilan de santé.</p>" in html
    for part in message.iter_parts():
        assert part.get_content_charset() == "utf-8"


async def test_each_message_gets_its_own_message_id(smtp_server):
    mailer = SmtpMailer("127.0.0.1", smtp_server.port, SENDER, timeout=5)

    await mailer.send(_referral_email())
    await mailer.send(_referral_email())

    first, second = smtp_server.inbox.messages()
    assert first["Message-ID"] != second["Message-ID"]


async def test_smtp_server_not_listening_raises_mail_error_quickly():
    port = _free_port()
    mailer = SmtpMailer("127.0.0.1", port, SENDER, timeout=2)

    with anyio.fail_after(5), pytest.raises(MailError) as raised:
        await mailer.send(_referral_email())

    assert f"127.0.0.1:{port}" in str(raised.value)


async def test_refused_recipient_raises_mail_error_naming_it(smtp_server):
    smtp_server.inbox.refused.add("inconnu@exemple.fr")
    mailer = SmtpMailer("127.0.0.1", smtp_server.port, SENDER, timeout=5)

    with pytest.raises(MailError) as raised:
        await mailer.send(_referral_email(to="inconnu@exemple.fr"))

    assert "inconnu@exemple.fr" in str(raised.value)
    assert "550" in str(raised.value)
    assert smtp_server.inbox.envelopes == []


async def test_silent_server_times_out_as_mail_error():
    # The kernel completes the connection but nobody ever greets: the client must give up.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        mailer = SmtpMailer("127.0.0.1", port, SENDER, timeout=0.5)

        with anyio.fail_after(5), pytest.raises(MailError, match=f"127.0.0.1:{port}"):
            await mailer.send(_referral_email())


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made by the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    request = "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    san = "subjectAltName=IP:127.0.0.1"
    subprocess.run(
        [openssl, *request.split(), "-addext", san, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def _check_login(server, session: Session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (USERNAME, PASSWORD)
    return AuthResult(success=ok, handled=False)


async def test_starttls_and_login_before_sending(certificate):
    cert, key = certificate
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    async for running in _serve(
        tls_context=server_context,
        require_starttls=True,
        auth_required=True,
        authenticator=_check_login,
    ):
        mailer = SmtpMailer(
            "127.0.0.1",
            running.port,
            SENDER,
            username=USERNAME,
            password=PASSWORD,
            starttls=True,
            timeout=5,
            tls_context=client_context,
        )
        await mailer.send(_referral_email())

        [message] = running.inbox.messages()
        assert message["Subject"] == "Orientation reçue : Élodie, 19 ans, à l’Espace Santé"

        wrong = SmtpMailer(
            "127.0.0.1",
            running.port,
            SENDER,
            username=USERNAME,
            password="pas le bon",
            starttls=True,
            timeout=5,
            tls_context=client_context,
        )
        with pytest.raises(MailError, match=f"127.0.0.1:{running.port}"):
            await wrong.send(_referral_email())
        assert len(running.inbox.envelopes) == 1


async def test_outbox_writes_one_parseable_eml_file_per_message(tmp_path):
    outbox = tmp_path / "outbox"  # created on first use
    mailer = OutboxMailer(outbox, SENDER)

    await mailer.send(_referral_email(subject="Première orientation"))
    await mailer.send(_referral_email(subject="Deuxième orientation"))

    files = sorted(outbox.iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no temporary file left behind
    messages = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files
    ]
    # File names sort in the order the messages were written.
    assert [m["Subject"] for m in messages] == ["Première orientation", "Deuxième orientation"]
    first = messages[0]
    assert first["From"] == f"Maillage <{SENDER}>"
    assert first["To"] == "accueil@espace-sante-valence.fr"
    assert first["X-Maillage-Referral"] == "6f1c2a9e-0b7d-4c1e-9a4f-2d8e5b3c7a10"
    text, html = _parts(first)
    assert "Ça presse." in text
    assert "bilan de santé" in html
    # Messages may name a young person: readable by the service's own user only.
    assert all(f.stat().st_mode & 0o077 == 0 for f in files)


async def test_outbox_that_cannot_be_written_raises_mail_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the outbox folder should be")
    mailer = OutboxMailer(blocker / "outbox", SENDER)

    with pytest.raises(MailError, match="not-a-folder"):
        await mailer.send(_referral_email())


def test_settings_choose_smtp_when_a_host_is_configured(tmp_path):
    configured = Settings(
        secret_key="x",
        smtp_host="smtp.exemple.fr",
        smtp_port=465,
        smtp_tls=True,
        mail_sender="maillage@ml-valence.fr",
    )
    mailer = mailer_from_settings(configured)
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.sender) == (
        "smtp.exemple.fr",
        465,
        configured.mail_sender,
    )
    assert mailer.use_tls and not mailer.starttls

    offline = mailer_from_settings(Settings(secret_key="x", mail_outbox=tmp_path))
    assert isinstance(offline, OutboxMailer)
    assert offline.folder == tmp_path


def test_settings_read_mail_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MAILLAGE_SMTP_HOST", "relais.exemple.fr")
    monkeypatch.setenv("MAILLAGE_SMTP_PORT", "2525")
    monkeypatch.setenv("MAILLAGE_SMTP_USERNAME", "ml")
    monkeypatch.setenv("MAILLAGE_SMTP_PASSWORD", "secret")
    monkeypatch.setenv("MAILLAGE_SMTP_STARTTLS", "false")
    monkeypatch.setenv("MAILLAGE_MAIL_SENDER", "orientations@ml-valence.fr")
    monkeypatch.setenv("MAILLAGE_MAIL_OUTBOX", str(tmp_path))

    configured = Settings.from_env()

    assert configured.smtp_host == "relais.exemple.fr"
    assert configured.smtp_port == 2525
    assert (configured.smtp_username, configured.smtp_password) == ("ml", "secret")
    assert configured.smtp_starttls is False and configured.smtp_tls is False
    assert configured.mail_sender == "orientations@ml-valence.fr"
    assert configured.mail_outbox == tmp_path
    assert "secret" not in repr(configured)


def test_email_refuses_header_injection_and_several_recipients():
    with pytest.raises(ValueError, match="subject"):
        _referral_email(subject="Bonjour\nBcc: tout-le-monde@exemple.fr")
    with pytest.raises(ValueError, match="one e-mail address"):
        _referral_email(to="a@exemple.fr, b@exemple.fr")
    with pytest.raises(ValueError, match="X-Note"):
        _referral_email(headers={"X-Note": "un\r\nBcc: x@exemple.fr"})
    with pytest.raises(ValueError, match="Subject"):
        _referral_email(headers={"Subject": "autre chose"})


def test_build_message_keeps_headers_read_only():
    headers = {"X-Maillage-Referral": "42"}
    message = _referral_email(headers=headers)
    headers["X-Maillage-Referral"] = "changed later"

    assert build_message(message, SENDER)["X-Maillage-Referral"] == "42"
    with pytest.raises(TypeError):
        message.headers["X-Other"] = "1"  # type: ignore[index]


def test_templated_mail_renders_subject_text_and_escaped_html():
    rendered = TemplatedMail().render(
        "test_message",
        "accueil@espace-sante-valence.fr",
        name="Éloïse",
        structure="Espace Santé Jeunes de Valence",
        note="<script>alert('ça')</script> & co",
        link="https://maillage.test/structures/1?a=1&b=2",
    )

    assert rendered.to == "accueil@espace-sante-valence.fr"
    assert rendered.subject == "Message d’essai de Maillage pour Espace Santé Jeunes de Valence"
    assert rendered.text.startswith("Bonjour Éloïse,\n")
    assert "Objet" not in rendered.text
    assert "Note : <script>alert('ça')</script> & co" in rendered.text
    assert "https://maillage.test/structures/1?a=1&b=2" in rendered.text
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#39;ça&#39;)&lt;/script&gt; &amp; co" in rendered.html
    assert 'href="https://maillage.test/structures/1?a=1&amp;b=2"' in rendered.html
    assert "<title>Message d’essai de Maillage pour Espace Santé Jeunes de Valence</title>" in (
        rendered.html
    )
    assert "Ce message vous est envoyé par Maillage" in rendered.html
    assert '<html lang="fr" dir="ltr">' in rendered.html


def test_templated_mail_refuses_a_missing_variable():
    with pytest.raises(jinja2.UndefinedError, match="note"):
        TemplatedMail().render(
            "test_message", "a@exemple.fr", name="A", structure="B", link="https://x.test"
        )


async def test_templated_mail_goes_through_smtp_intact(smtp_server):
    rendered = TemplatedMail().render(
        "test_message",
        "accueil@espace-sante-valence.fr",
        name="Éloïse",
        structure="Espace Santé Jeunes",
        note="à bientôt",
        link="https://maillage.test/r/abc",
    )
    rendered = replace(rendered, headers={"X-Maillage-Referral": "abc"})

    await SmtpMailer("127.0.0.1", smtp_server.port, SENDER, timeout=5).send(rendered)

    [message] = smtp_server.inbox.messages()
    assert message["Subject"] == "Message d’essai de Maillage pour Espace Santé Jeunes"
    assert message["X-Maillage-Referral"] == "abc"
    text, html = _parts(message)
    assert text == rendered.text
    assert html == rendered.html
