"""The email channel against a real SMTP server (aiosmtpd on loopback): what arrives,
authentication, STARTTLS and implicit TLS with a certificate made here, how failures
are classified, header injection and the SSRF guard."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from phoenix_contracts.channels import EmailConfig
from phoenix_contracts.notifications import MonitorRef
from phoenix_notifier.channels.base import TransportError
from phoenix_notifier.channels.email import EmailChannel, message_id, render
from phoenix_platform.netguard import NetGuard, parse_networks

from tests.channel_kit import notice

# Where "localhost" resolves first: the guard hands the channel that address, so the
# server listens there (127.0.0.1 on most machines, ::1 on some).
LOOPBACK = str(socket.getaddrinfo("localhost", 25, type=socket.SOCK_STREAM)[0][4][0])
USER, PASSWORD = "alerts", "correct-horse-battery-staple"
SENT_AT = datetime(2024, 5, 17, 8, 31, tzinfo=UTC)


# --- a real SMTP server -------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    authenticated: bool

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """Records accepted messages; ``rcpt_replies`` / ``data_reply`` script refusals."""

    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str, bool]] = field(default_factory=list)  # mechanism, user, ok

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        assert isinstance(envelope.content, bytes)
        assert envelope.mail_from is not None
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.content,
                # session.ssl is set by STARTTLS only; the transport knows about both.
                tls=server.transport is not None
                and server.transport.get_extra_info("ssl_object") is not None,
                authenticated=bool(session.authenticated),
            )
        )
        return "250 Message accepted for delivery"

    def authenticator(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        ok = (login, password) == (USER, PASSWORD)
        self.logins.append((mechanism, login, ok))
        if ok:
            return AuthResult(success=True)
        # A hostile or chatty server that echoes the password back in its refusal.
        return AuthResult(
            success=False, handled=False, message=f"535 5.7.8 bad password {password}"
        )


def free_port() -> int:
    family = socket.AF_INET6 if ":" in LOOPBACK else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server(recorder: Recorder, **options: Any) -> Iterator[int]:
    """An aiosmtpd server on loopback; yields its port."""
    port = free_port()
    controller = Controller(
        recorder,
        hostname=LOOPBACK,
        port=port,
        server_hostname="mail.test",
        ready_timeout=10,
        **options,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


# --- a certificate authority made here -------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca_pem: str
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.ca_pem)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA, and a server certificate it signed for the name ``localhost`` only."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Phoenix test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("pki")
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Pki(ca.public_bytes(serialization.Encoding.PEM).decode(), cert_file, key_file)


# --- the channel -----------------------------------------------------------------------


def loopback_guard() -> NetGuard:
    return NetGuard(parse_networks("127.0.0.0/8, ::1/128"))


def channel(guard: NetGuard | None = None, **options: Any) -> EmailChannel:
    options.setdefault("timeout", 5.0)
    return EmailChannel(guard or loopback_guard(), clock=lambda: SENT_AT, **options)


def config(port: int, **changes: Any) -> EmailConfig:
    fields: dict[str, Any] = {
        "host": "localhost",
        "port": port,
        "security": "none",
        "from_address": "Phoenix Alerts <alerts@example.com>",
        "to": ["ops@example.com", "Jörg Müller <joerg@example.org>"],
    }
    fields.update(changes)
    return EmailConfig(**fields)


async def refusal(send: Any) -> TransportError:
    with pytest.raises(TransportError) as error:
        await send
    return error.value


# --- plain delivery and what the message looks like ----------------------------------------


async def test_a_plain_delivery_arrives_with_headers_both_parts_and_the_recipients() -> None:
    recorder = Recorder()
    hostile = 'Shop <script>alert("x")</script> & "Co"'
    sent = notice(
        monitor=MonitorRef(id="m-1", name=hostile, url="https://shop.example.com/?a=1&b=<2>")
    )
    with smtp_server(recorder) as port:
        await channel().send(sent, config(port))
    (got,) = recorder.received
    assert got.mail_from == "alerts@example.com"
    assert got.rcpt_tos == ["ops@example.com", "joerg@example.org"]
    assert not got.tls
    message = got.message
    assert message["Subject"] == f"[Phoenix] {hostile} is down"
    assert message["From"].addresses[0].addr_spec == "alerts@example.com"
    assert message["From"].addresses[0].display_name == "Phoenix Alerts"
    assert [a.addr_spec for a in message["To"].addresses] == [
        "ops@example.com",
        "joerg@example.org",
    ]
    assert message["To"].addresses[1].display_name == "Jörg Müller"
    assert message["Date"].datetime == SENT_AT
    assert message["Message-ID"] == message_id("event-9:rule-3:channel-2")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Phoenix-Delivery"] == "event-9:rule-3:channel-2"
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    assert rich is not None
    text, page = plain.get_content(), rich.get_content()
    assert hostile in text
    assert "timeout: the request timed out" in text
    assert "https://shop.example.com/?a=1&b=<2>" in text
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Co&quot;" in page
    assert "https://shop.example.com/?a=1&amp;b=&lt;2&gt;" in page


def test_the_message_id_is_stable_per_delivery_and_differs_between_deliveries() -> None:
    assert message_id("a") == message_id("a") != message_id("b")
    assert message_id("a").startswith("<")
    assert message_id("a").endswith("@phoenix>")


def test_render_is_pure_and_dates_the_message_when_the_event_occurred() -> None:
    made = render(notice(), config(25))
    assert made["Date"].datetime == notice().occurred_at.replace(microsecond=0)
    assert render(notice(), config(25))["Subject"] == made["Subject"]


def test_non_ascii_subjects_are_encoded_on_the_wire() -> None:
    made = render(notice(monitor=MonitorRef(id="m", name="Größe ✓", url="")), config(25))
    wire = made.as_bytes()
    wire.decode("ascii")  # every header encoded (RFC 2047), the body transfer-encoded
    assert message_from_bytes(wire, policy=policy.default)["Subject"] == "[Phoenix] Größe ✓ is down"


# --- header injection ---------------------------------------------------------------------


async def test_a_crlf_in_the_monitor_name_adds_no_header() -> None:
    recorder = Recorder()
    name = "x\r\nBcc: evil@example.com\r\nX-Evil: 1"
    with smtp_server(recorder) as port:
        await channel().send(
            notice(monitor=MonitorRef(id="m", name=name, url="")), config(port, to=["a@b.test"])
        )
    (got,) = recorder.received
    message = got.message
    assert message["Bcc"] is None
    assert message["X-Evil"] is None
    assert got.rcpt_tos == ["a@b.test"]
    assert "\n" not in message["Subject"]
    head = got.content.split(b"\r\n\r\n", 1)[0]
    assert [line.split(b":")[0] for line in head.split(b"\r\n") if line[:1] not in b" \t"] == [
        b"Subject",
        b"From",
        b"To",
        b"Date",
        b"Message-ID",
        b"Auto-Submitted",
        b"X-Auto-Response-Suppress",
        b"X-Phoenix-Delivery",
        b"MIME-Version",
        b"Content-Type",
    ]


def test_render_refuses_a_header_value_with_a_line_break() -> None:
    raw = msgspec.structs.replace(notice(), title="x\r\nBcc: evil@example.com")
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        render(raw, config(25))


async def test_a_line_break_that_reaches_send_is_refused_for_good_and_nothing_is_sent() -> None:
    recorder = Recorder()
    raw = msgspec.structs.replace(notice(), delivery_id="d\r\nBcc: evil@example.com")
    with smtp_server(recorder) as port:
        error = await refusal(channel().send(raw, config(port)))
    assert error.permanent
    assert recorder.received == []


@pytest.mark.parametrize(
    "changes",
    [
        {"from_address": "alerts@example.com\r\nBcc: evil@example.com"},
        {"to": ["ops@example.com, evil@example.com"]},
        {"to": ["not an address"]},
    ],
)
async def test_a_bad_address_is_refused_for_good_and_nothing_is_sent(
    changes: dict[str, Any],
) -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        error = await refusal(channel().send(notice(), config(port, **changes)))
    assert error.permanent
    assert "address" in str(error)
    assert recorder.received == []


# --- authentication -------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
async def test_login_with_the_right_password_delivers(mechanism: str) -> None:
    recorder = Recorder()
    other = {"LOGIN": "PLAIN", "PLAIN": "LOGIN"}[mechanism]
    with smtp_server(
        recorder,
        authenticator=recorder.authenticator,
        auth_required=True,
        auth_require_tls=False,
        auth_exclude_mechanism=[other],
    ) as port:
        await channel().send(notice(), config(port, username=USER, password=PASSWORD))
    assert recorder.logins == [(mechanism, USER, True)]
    (got,) = recorder.received
    assert got.authenticated


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
async def test_a_wrong_password_is_permanent_and_never_echoed(mechanism: str) -> None:
    recorder = Recorder()
    other = {"LOGIN": "PLAIN", "PLAIN": "LOGIN"}[mechanism]
    wrong = "wrong-but-secret-password"
    with smtp_server(
        recorder,
        authenticator=recorder.authenticator,
        auth_required=True,
        auth_require_tls=False,
        auth_exclude_mechanism=[other],
    ) as port:
        error = await refusal(channel().send(notice(), config(port, username=USER, password=wrong)))
    assert error.permanent
    assert "535" in str(error)
    assert wrong not in str(error)
    assert wrong not in repr(error.args)
    assert recorder.logins == [(mechanism, USER, False)]
    assert recorder.received == []


# --- TLS --------------------------------------------------------------------------------


async def test_starttls_upgrades_before_logging_in_and_sending(pki: Pki) -> None:
    recorder = Recorder()
    with smtp_server(
        recorder,
        tls_context=pki.server_context(),
        require_starttls=True,
        authenticator=recorder.authenticator,
        auth_required=True,  # and auth_require_tls: AUTH in clear would be refused
    ) as port:
        await channel(tls_context=pki.client_context()).send(
            notice(), config(port, security="starttls", username=USER, password=PASSWORD)
        )
    (got,) = recorder.received
    assert got.tls
    assert got.authenticated


async def test_implicit_tls_delivers(pki: Pki) -> None:
    recorder = Recorder()
    with smtp_server(recorder, ssl_context=pki.server_context()) as port:
        await channel(tls_context=pki.client_context()).send(notice(), config(port, security="tls"))
    (got,) = recorder.received
    assert got.tls


async def test_a_server_without_starttls_is_refused_for_good_before_anything_is_sent() -> None:
    recorder = Recorder()
    with smtp_server(
        recorder, authenticator=recorder.authenticator, auth_require_tls=False
    ) as port:
        error = await refusal(
            channel().send(
                notice(), config(port, security="starttls", username=USER, password=PASSWORD)
            )
        )
    assert error.permanent
    assert "STARTTLS" in str(error)
    assert recorder.logins == []  # the password never crossed in clear
    assert recorder.received == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_an_untrusted_certificate_is_refused_for_good(pki: Pki, security: str) -> None:
    recorder = Recorder()
    server = (
        {"tls_context": pki.server_context()}
        if security == "starttls"
        else {"ssl_context": pki.server_context()}
    )
    with smtp_server(recorder, **server) as port:
        # The production default: the system's CAs, which do not know this test CA.
        error = await refusal(channel().send(notice(), config(port, security=security)))
    assert error.permanent
    assert "certificate" in str(error)
    assert recorder.received == []


async def test_the_certificate_is_checked_against_the_configured_name(pki: Pki) -> None:
    recorder = Recorder()
    with smtp_server(recorder, ssl_context=pki.server_context()) as port:
        # Same server and trusted CA, but the certificate names "localhost", not the IP.
        error = await refusal(
            channel(tls_context=pki.client_context()).send(
                notice(), config(port, host=LOOPBACK, security="tls")
            )
        )
    assert error.permanent
    assert "certificate" in str(error)
    assert recorder.received == []


async def test_implicit_tls_against_a_plain_server_is_permanent() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        error = await refusal(channel().send(notice(), config(port, security="tls")))
    assert error.permanent
    assert recorder.received == []


# --- how SMTP answers are classified ------------------------------------------------------


@pytest.mark.parametrize(
    ("rcpt_reply", "data_reply", "permanent"),
    [
        (None, "421 4.3.0 Service not available, try again later", False),
        (None, "451 4.3.0 Local error in processing", False),
        ("452 4.2.2 Mailbox full", None, False),
        ("450 4.2.1 Mailbox busy", None, False),
        (None, "550 5.7.1 Message rejected as spam", True),
        (None, "554 5.6.0 Transaction failed", True),
        ("550 5.1.1 No such user", None, True),
        ("553 5.1.3 Bad recipient address syntax", None, True),
    ],
)
async def test_smtp_replies_are_transient_for_4xx_and_permanent_for_5xx(
    rcpt_reply: str | None, data_reply: str | None, permanent: bool
) -> None:
    recorder = Recorder(
        rcpt_replies={"ops@example.com": rcpt_reply} if rcpt_reply else {},
        data_reply=data_reply,
    )
    with smtp_server(recorder) as port:
        error = await refusal(channel().send(notice(), config(port, to=["ops@example.com"])))
    assert error.permanent is permanent
    assert (rcpt_reply or data_reply or "")[:3] in str(error)
    assert recorder.received == []


async def test_a_message_accepted_for_some_recipients_is_not_retried() -> None:
    recorder = Recorder(rcpt_replies={"gone@example.com": "550 5.1.1 No such user"})
    with smtp_server(recorder) as port:
        error = await refusal(
            channel().send(notice(), config(port, to=["ops@example.com", "gone@example.com"]))
        )
    assert error.permanent  # a retry would send ops@ a second copy
    assert "1 of 2" in str(error)
    assert "gone@example.com" in str(error)
    (got,) = recorder.received
    assert got.rcpt_tos == ["ops@example.com"]


async def test_a_refused_connection_is_transient() -> None:
    error = await refusal(channel().send(notice(), config(free_port())))
    assert not error.permanent


async def test_a_server_that_never_answers_times_out_transiently() -> None:
    family = socket.AF_INET6 if ":" in LOOPBACK else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen(1)  # the kernel accepts the connection; nobody says 220
        error = await refusal(channel(timeout=0.5).send(notice(), config(silent.getsockname()[1])))
    assert not error.permanent
    assert "timed out" in str(error).lower()


# --- the SSRF guard ---------------------------------------------------------------------


async def test_the_guard_refuses_an_internal_address_for_good() -> None:
    error = await refusal(channel(NetGuard()).send(notice(), config(25, host="169.254.169.254")))
    assert error.permanent
    assert "169.254.169.254" in str(error)


async def test_the_guard_refuses_loopback_unless_it_is_allowed() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        error = await refusal(channel(NetGuard()).send(notice(), config(port)))
        assert error.permanent
        assert recorder.received == []
        allowed = NetGuard([ipaddress.ip_network(LOOPBACK)])
        await channel(allowed).send(notice(), config(port))
    assert len(recorder.received) == 1
