"""Sending mail with the standard library's `smtplib`, in a worker thread: one connection per message
(answers and documents are rare), TLS, STARTTLS or plain to this machine, login from a secret. Every
smtplib, socket or TLS error leaves as a `TransportError`: 4xx answers and broken connections are
retryable, 5xx answers and refused credentials are not."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage

from connectors.base import Check, SecretSource
from connectors.email.imap import tls_context
from connectors.email.settings import SMTP_PORTS, EmailSettings
from gateway.core.errors import ConfigError, ConnectorRejected, ConnectorUnavailable, TransportError


class SmtpSender:
    def __init__(self, settings: EmailSettings, secrets: SecretSource) -> None:
        self.settings = settings
        self.secrets = secrets
        self.address = settings.smtp_address

    def __repr__(self) -> str:
        return f"SmtpSender({self.address})"

    async def send(self, message: EmailMessage, *, envelope_from: str, recipients: Sequence[str]) -> None:
        """Hand the message to the server; `envelope_from=""` sends with the null sender `<>`."""
        await asyncio.to_thread(self._send, message, envelope_from, list(recipients))

    def _send(self, message: EmailMessage, envelope_from: str, recipients: list[str]) -> None:
        try:
            with self._connect() as smtp:
                smtp.send_message(message, from_addr=envelope_from or "<>", to_addrs=recipients)
        except (smtplib.SMTPException, OSError) as error:
            raise self._describe(error, f"send to {', '.join(recipients)}") from None

    async def check(self) -> list[Check]:
        def check() -> list[Check]:
            settings = self.settings
            try:
                with self._connect():
                    pass
            except (smtplib.SMTPException, OSError) as error:
                return self._failed(self._describe(error, "connect"))
            except (TransportError, ConfigError) as error:
                return self._failed(error)
            checks = [Check("smtp connect", True, f"reached {self.address} ({settings.smtp_security})")]
            if settings.smtp_login:
                checks.append(Check("smtp login", True, f"logged in as {settings.smtp_user}"))
            return checks

        return await asyncio.to_thread(check)

    def _failed(self, error: TransportError | ConfigError) -> list[Check]:
        if error.code == "SMTP_AUTH":
            return [
                Check("smtp connect", True, f"reached {self.address} ({self.settings.smtp_security})"),
                Check("smtp login", False, error.message),
            ]
        name = "secrets" if error.code in ("MISSING_SECRET", "SMTP_PASSWORD") else "smtp connect"
        return [Check(name, False, error.message)]

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        host, port = settings.smtp_host or "", settings.smtp_port or SMTP_PORTS[settings.smtp_security]
        timeout = settings.timeout_seconds
        if settings.smtp_security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls_context(settings))
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            smtp.ehlo()
            if settings.smtp_security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise ConnectorRejected(
                        f"{self.address} does not offer STARTTLS; use smtp_security=tls (port 465)",
                        code="SMTP_NO_STARTTLS",
                    )
                smtp.starttls(context=tls_context(settings))
                smtp.ehlo()
            if settings.smtp_login:
                self._login(smtp)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _login(self, smtp: smtplib.SMTP) -> None:
        settings = self.settings
        assert settings.smtp_secret is not None and settings.smtp_user is not None
        password = self.secrets.get(settings.smtp_secret).get_secret_value()
        try:
            smtp.login(settings.smtp_user, password)
        except smtplib.SMTPAuthenticationError as error:
            raise ConnectorRejected(
                f"login to {self.address} as {settings.smtp_user} failed: the server refused the "
                f"credentials (secret {settings.smtp_secret}): {error.smtp_code} {_text(error.smtp_error)}",
                code="SMTP_AUTH",
            ) from None
        except UnicodeEncodeError:
            raise ConfigError(
                f"the password in secret {settings.smtp_secret} has non-ASCII characters, which SMTP "
                "login cannot carry",
                code="SMTP_PASSWORD",
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise ConnectorRejected(
                f"{self.address} offers no login (AUTH); set smtp_login=false if it relays without one",
                code="SMTP_AUTH",
            ) from None

    def _describe(self, error: BaseException, what: str) -> TransportError:
        where = f"{what} via {self.address}"
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            refused = "; ".join(
                f"{address}: {code} {_text(reason)}" for address, (code, reason) in error.recipients.items()
            )
            return ConnectorRejected(f"{where}: recipients refused ({refused})", code="SMTP_RECIPIENT")
        if isinstance(error, smtplib.SMTPResponseException):
            said = f"{error.smtp_code} {_text(error.smtp_error)}"
            if 400 <= error.smtp_code < 500:
                return ConnectorUnavailable(f"{where}: the server said {said}", code="SMTP_UNAVAILABLE")
            return ConnectorRejected(f"{where}: the server said {said}", code="SMTP_REFUSED")
        if isinstance(error, smtplib.SMTPServerDisconnected):
            return ConnectorUnavailable(f"{where}: the server closed the connection", code="SMTP_UNAVAILABLE")
        if isinstance(error, ssl.SSLCertVerificationError):
            return ConnectorRejected(
                f"{where}: the server's TLS certificate is not trusted ({error.verify_message}); if it is "
                "signed by a private CA, set tls_ca_file",
                code="SMTP_TLS",
            )
        if isinstance(error, ssl.SSLError):
            return ConnectorRejected(
                f"{where}: TLS failed ({error.reason}); is smtp_security={self.settings.smtp_security} "
                "right for this port?",
                code="SMTP_TLS",
            )
        if isinstance(error, TimeoutError):
            return ConnectorUnavailable(
                f"{where}: no answer within {self.settings.timeout_seconds:g}s", code="SMTP_TIMEOUT"
            )
        if isinstance(error, ConnectionRefusedError):
            return ConnectorUnavailable(f"{where}: connection refused", code="SMTP_UNAVAILABLE")
        if isinstance(error, OSError):
            return ConnectorUnavailable(f"{where}: {error.strerror or error}", code="SMTP_UNAVAILABLE")
        return ConnectorRejected(f"{where}: {type(error).__name__}: {error}", code="SMTP_FAILURE")


def _text(reply: bytes | str) -> str:
    return (reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply)[:200]


__all__ = ["SmtpSender"]
