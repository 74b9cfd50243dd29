"""Email channel: one message over SMTP, through the SSRF guard.

:func:`render` is pure (notice + config → :class:`~email.message.EmailMessage`):
headers are set through ``email.policy.SMTP``, never by joining strings, so a
value with CR/LF cannot add a header (the policy refuses it), non-ASCII text is
encoded, and every user value in the HTML part is escaped.

:class:`EmailChannel` resolves the server with :class:`NetGuard`, connects to
the address that was checked (a second DNS answer cannot swap in an internal
one) and verifies TLS against the configured host name:

- ``tls``: implicit TLS from the first byte (usually port 465);
- ``starttls``: STARTTLS is required; a server that does not offer it is
  refused for good, before anything (credentials included) is sent in clear;
- ``none``: plain SMTP (a relay on a trusted network).

Failures: connection refused or lost, timeouts, SMTP 4xx → transient (retried);
SMTP 5xx (bad credentials, refused sender or recipient), TLS failures, a
refused target, a bad address → permanent. The password never appears in an
error message.

Once the server has answered 250 to DATA the message is out: nothing after that
(QUIT failing, the connection dropping) turns into an error, so a retry cannot
send it again. The one duplicate left is documented in docs/channels.md.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import socket
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import ClassVar

import aiosmtplib
from phoenix_contracts.channels import EmailConfig
from phoenix_platform.netguard import NetGuard, TargetRefused

from phoenix_notifier.channels.base import TransportError
from phoenix_notifier.message import Notice

SUBJECT_PREFIX = "[Phoenix] "
DELIVERY_HEADER = "X-Phoenix-Delivery"
DEFAULT_TIMEOUT = 10.0
_DETAIL_LIMIT = 300
# TLS errors that mean "the connection went away", not "this server cannot be trusted".
_TLS_CONNECTION_ERRORS = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


class EmailAddressError(ValueError):
    """A configured address is not exactly one valid email address."""


def message_id(delivery_id: str) -> str:
    """Stable per delivery: a resent copy threads with (or is deduplicated against) the first."""
    return f"<{hashlib.sha256(delivery_id.encode()).hexdigest()[:32]}@phoenix>"


def parse_address(value: str, field: str) -> Address:
    """Exactly one address, parsed by the email package's own header grammar."""
    header = policy.SMTP.header_factory("To", value)
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    if header.defects or len(addresses) != 1 or not addresses[0].domain:
        raise EmailAddressError(f"{field} is not one valid email address")
    return addresses[0]


def envelope(config: EmailConfig) -> tuple[str, list[str]]:
    """MAIL FROM and RCPT TO: the bare addresses of ``from_address`` and ``to``."""
    sender = parse_address(config.from_address, "from_address").addr_spec
    recipients = [parse_address(value, "to").addr_spec for value in config.to]
    return sender, recipients


def _facts(notice: Notice) -> list[tuple[str, str]]:
    rows = [
        ("Monitor", notice.monitor_name),
        ("URL", notice.monitor_url),
        ("Status", notice.status),
        ("Previous status", notice.previous_status),
        ("Reason", notice.reason),
        ("Occurred at", notice.occurred_at.isoformat()),
        ("Incident", notice.incident_id),
    ]
    return [(label, value) for label, value in rows if value]


def plain_body(notice: Notice) -> str:
    lines = [notice.title, "", notice.text, ""]
    lines += [f"{label}: {value}" for label, value in _facts(notice)]
    lines += ["", "-- ", f"Sent by Phoenix (delivery {notice.delivery_id})"]
    return "\n".join(lines) + "\n"


def html_body(notice: Notice) -> str:
    def esc(value: str) -> str:
        return html.escape(value, quote=True)

    rows = "".join(
        f'<tr><th align="left" style="padding-right:12px">{esc(label)}</th>'
        f"<td>{esc(value)}</td></tr>"
        for label, value in _facts(notice)
    )
    text = esc(notice.text).replace("\n", "<br>\n")
    return (
        "<!DOCTYPE html>\n"
        '<html><head><meta charset="utf-8"><title>'
        f"{esc(notice.title)}</title></head>\n"
        '<body style="font-family:sans-serif">\n'
        f"<h2>{esc(notice.emoji + ' ' if notice.emoji else '')}{esc(notice.title)}</h2>\n"
        f"<p>{text}</p>\n"
        f"<table>{rows}</table>\n"
        f'<p style="color:#888;font-size:small">Sent by Phoenix'
        f" (delivery {esc(notice.delivery_id)})</p>\n"
        "</body></html>\n"
    )


def render(notice: Notice, config: EmailConfig, *, date: datetime | None = None) -> EmailMessage:
    """The message to send (pure). ``date`` defaults to when the event occurred.

    Raises :class:`EmailAddressError` for an address that is not one valid address, and
    ``ValueError`` (from the email policy) for a header value with a line break.
    """
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = SUBJECT_PREFIX + notice.title
    message["From"] = parse_address(config.from_address, "from_address")
    message["To"] = tuple(parse_address(value, "to") for value in config.to)
    message["Date"] = format_datetime((date or notice.occurred_at).astimezone(UTC))
    message["Message-ID"] = message_id(notice.delivery_id)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message[DELIVERY_HEADER] = notice.delivery_id
    # Quoted-printable: 7-bit safe on servers without 8BITMIME, readable when ASCII.
    message.set_content(
        plain_body(notice), subtype="plain", charset="utf-8", cte="quoted-printable"
    )
    message.add_alternative(
        html_body(notice), subtype="html", charset="utf-8", cte="quoted-printable"
    )
    return message


class EmailChannel:
    """Sends :func:`render`'s message. ``tls_context`` is for tests that trust their own
    CA; production uses the default context (system CAs, host name checked)."""

    type: ClassVar[str] = "email"

    def __init__(
        self,
        guard: NetGuard,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._guard = guard
        self._timeout = timeout
        self._tls_context = tls_context or ssl.create_default_context()
        self._local_hostname = local_hostname
        self._clock = clock

    async def send(self, notice: Notice, config: EmailConfig) -> None:
        try:
            message = render(notice, config, date=self._clock())
            sender, recipients = envelope(config)
        except ValueError as exc:
            raise TransportError(f"cannot build the message: {exc}", permanent=True) from None
        try:
            refused = await self._deliver(message, sender, recipients, config)
        except TransportError:
            raise
        except Exception as exc:
            error = classify(exc)
            raise TransportError(
                scrub(str(error), config), permanent=error.permanent, retry_after=error.retry_after
            ) from None
        if refused:
            # Accepted for some recipients: retrying would send them a second copy.
            detail = "; ".join(
                f"{address}: {response.code} {response.message}"
                for address, response in refused.items()
            )
            raise TransportError(
                scrub(
                    f"delivered to {len(recipients) - len(refused)} of {len(recipients)}"
                    f" recipients; refused: {detail}"[:_DETAIL_LIMIT],
                    config,
                ),
                permanent=True,
            )

    async def _deliver(
        self, message: EmailMessage, sender: str, recipients: list[str], config: EmailConfig
    ) -> dict[str, aiosmtplib.SMTPResponse]:
        """Everything up to the server's answer to DATA, within one deadline."""
        smtp: aiosmtplib.SMTP | None = None
        try:
            async with asyncio.timeout(self._timeout):  # the whole attempt, up to DATA's reply
                address = await self._guard.resolve(config.host, config.port)
                sock = await _connect(str(address), config.port)
                smtp = aiosmtplib.SMTP(
                    hostname=config.host,  # for TLS: SNI and certificate checked against it
                    sock=sock,
                    use_tls=config.security == "tls",
                    start_tls=False,
                    tls_context=self._tls_context,
                    timeout=self._timeout,
                    local_hostname=self._local_hostname,
                )
                try:
                    await smtp.connect()
                except BaseException:
                    sock.close()
                    raise
                if config.security == "starttls":
                    await smtp.ehlo()
                    if not smtp.supports_extension("starttls"):
                        raise TransportError(
                            f"{config.host} does not offer STARTTLS: nothing was sent"
                            " (use security 'tls' for implicit TLS)",
                            permanent=True,
                        )
                    await smtp.starttls()
                if config.username:
                    await smtp.login(config.username, config.password)
                refused, _ = await smtp.send_message(message, sender=sender, recipients=recipients)
        except BaseException:
            if smtp is not None:
                smtp.close()
            raise
        await _quit(smtp, self._timeout)
        return refused


async def _connect(address: str, port: int) -> socket.socket:
    """A connected socket to the approved address (the name is never resolved again)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (address, port))
    except BaseException:
        sock.close()
        raise
    return sock


async def _quit(smtp: aiosmtplib.SMTP, timeout: float) -> None:
    """Say goodbye; the message is already accepted, so nothing here is an error."""
    try:
        async with asyncio.timeout(timeout):
            await smtp.quit()
    except Exception:  # noqa: S110 - accepted is accepted
        pass
    finally:
        smtp.close()


def classify(exc: Exception) -> TransportError:
    """Transient or permanent, and a message without secrets (callers scrub it too)."""
    if isinstance(exc, TargetRefused):
        return TransportError(f"refused target: {exc}", permanent=True)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in exc.recipients]
        detail = "; ".join(
            f"{refusal.recipient}: {refusal.code} {refusal.message}" for refusal in exc.recipients
        )
        permanent = all(code >= 500 for code in codes)
        return TransportError(
            f"all recipients refused: {detail}"[:_DETAIL_LIMIT], permanent=permanent
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        what = {
            aiosmtplib.SMTPAuthenticationError: "login failed",
            aiosmtplib.SMTPSenderRefused: "sender refused",
            aiosmtplib.SMTPDataError: "message refused",
            aiosmtplib.SMTPConnectResponseError: "server refused the connection",
            aiosmtplib.SMTPHeloError: "server refused EHLO/HELO",
        }.get(type(exc), "server answered")
        text = f"{what}: SMTP {exc.code} {exc.message}"[:_DETAIL_LIMIT]
        return TransportError(text, permanent=not 400 <= exc.code < 500)
    tls = _tls_cause(exc)
    if tls is not None:
        if isinstance(tls, ssl.SSLCertVerificationError):
            return TransportError(f"TLS certificate refused: {tls.verify_message}", permanent=True)
        if not isinstance(tls, _TLS_CONNECTION_ERRORS):
            return TransportError(
                f"TLS failed: {tls.reason or tls} (does the port match the security mode?)",
                permanent=True,
            )
    if isinstance(exc, TimeoutError):  # aiosmtplib's timeouts and our deadline
        return TransportError(f"timed out: {exc}" if str(exc) else "timed out")
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | ConnectionError | OSError):
        return TransportError(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, aiosmtplib.SMTPNotSupported | ValueError):
        return TransportError(f"cannot send: {exc}", permanent=True)
    if isinstance(exc, aiosmtplib.SMTPException):
        # e.g. "The SMTP AUTH extension is not supported by this server."
        return TransportError(f"cannot send: {exc}", permanent=True)
    return TransportError(f"{type(exc).__name__}: {exc}")


def _tls_cause(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def scrub(text: str, config: EmailConfig) -> str:
    """Remove the password (and the encodings AUTH sends it in) from a message."""
    if not config.password:
        return text
    secrets = {
        config.password,
        base64.b64encode(config.password.encode()).decode(),
        base64.b64encode(f"\0{config.username}\0{config.password}".encode()).decode(),
    }
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "********")
    return text
