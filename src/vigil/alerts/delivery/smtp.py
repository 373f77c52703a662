"""Email over SMTP (``smtplib``): plain, STARTTLS or implicit TLS, with optional login.

The message id goes in ``Message-ID`` (``<id@vigil>``) and ``X-Vigil-Message-Id``, so mail
clients and filters can fold duplicates. SMTP 4xx replies and connection failures are
retried; 5xx replies (refused recipients, failed login) go to the dead letters.

Config: ``host`` (default localhost), ``port`` (25; 465 for ``security="ssl"``), ``to`` (an
address, comma-separated addresses or a list; required), ``from`` (default
``vigil@<hostname>``), ``security`` (``none``, ``starttls`` or ``ssl``), ``username`` and
``password`` (login when set), ``ca_file`` (trust this CA instead of the system's),
``verify`` (default true), ``timeout``. The connection goes only to an address the outbound
policy allows (:mod:`vigil.net.smtp`); a refused one is a failed, retried attempt. Secret
(:data:`SECRETS`): ``password``.

>>> m = Message(topic="drift", subject="Drift on churn", body="age drifted", id="m-1")
>>> mail = build_email(m, {"to": "a@x.org, b@x.org", "from": "vigil@x.org"})
>>> mail["Message-ID"], mail["To"], mail.get_content().strip()
('<m-1@vigil>', 'a@x.org, b@x.org', 'age drifted')
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from vigil.alerts.delivery.base import DEFAULT_TIMEOUT, DeliveryResult, require
from vigil.alerts.delivery.message import Message
from vigil.errors import ConfigError
from vigil.net.errors import OutboundRefusedError
from vigil.net.smtp import GuardedSMTP, GuardedSMTPSSL
from vigil.store.secrets import SecretFields

SECURITY = ("none", "starttls", "ssl")

#: The secret settings: the login password.
SECRETS = SecretFields(values=("password",))


def recipients(config: Mapping[str, Any]) -> list[str]:
    """The ``to`` setting as a list of addresses."""
    to = require(config, "to", "email")
    items = to.split(",") if isinstance(to, str) else list(to)
    out = [str(a).strip() for a in items if str(a).strip()]
    if not out:
        raise ConfigError("email subscription: 'to' holds no address")
    return out


def build_email(message: Message, config: Mapping[str, Any]) -> EmailMessage:
    """The email for ``message``: subject, text body, ids and Vigil headers."""
    mail = EmailMessage()
    mail["Subject"] = message.subject or f"[vigil] {message.topic}"
    mail["From"] = str(config.get("from") or f"vigil@{socket.gethostname()}")
    mail["To"] = ", ".join(recipients(config))
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = f"<{message.id}@vigil>"
    mail["X-Vigil-Message-Id"] = message.id
    mail["X-Vigil-Topic"] = message.topic
    mail.set_content(message.body or message.subject)
    return mail


def _tls_context(config: Mapping[str, Any]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=config.get("ca_file"))
    if config.get("verify") is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class EmailChannel:
    """Sends one email per message with ``smtplib``; a new connection per send."""

    name = "email"

    def send(self, message: Message, config: Mapping[str, Any]) -> DeliveryResult:
        try:
            mail = build_email(message, config)
            security = str(config.get("security") or "none").lower()
            if security not in SECURITY:
                raise ConfigError(
                    f"email subscription security: expected one of {', '.join(SECURITY)}, "
                    f"got {security!r}"
                )
        except ConfigError as exc:
            return DeliveryResult(ok=False, retryable=False, error=str(exc))
        host = str(config.get("host") or "localhost")
        port = int(config.get("port") or (465 if security == "ssl" else 25))
        timeout = float(config.get("timeout") or DEFAULT_TIMEOUT)
        try:
            if security == "ssl":
                smtp: smtplib.SMTP = GuardedSMTPSSL(
                    host, port, timeout=timeout, context=_tls_context(config)
                )
            else:
                smtp = GuardedSMTP(host, port, timeout=timeout)
            with smtp:
                if security == "starttls":
                    smtp.starttls(context=_tls_context(config))
                if config.get("username"):
                    smtp.login(str(config["username"]), str(config.get("password") or ""))
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            return DeliveryResult(ok=False, retryable=all(400 <= c < 500 for c in codes),
                                  status=max(codes), error=f"recipients refused: {exc.recipients}")
        except smtplib.SMTPResponseException as exc:
            code = int(exc.smtp_code)
            error = exc.smtp_error.decode(errors="replace") if isinstance(
                exc.smtp_error, bytes) else str(exc.smtp_error)
            return DeliveryResult(ok=False, retryable=400 <= code < 500, status=code,
                                  error=f"SMTP {code}: {error}")
        except OutboundRefusedError as exc:
            return DeliveryResult(ok=False, retryable=True, error=exc.message)
        except (OSError, smtplib.SMTPException) as exc:  # refused, timeouts, TLS, disconnects
            return DeliveryResult(ok=False, retryable=True, error=f"{type(exc).__name__}: {exc}")
        if refused:
            # Some recipients took it: the message is delivered; note who did not.
            return DeliveryResult(ok=True, retryable=False, status=250,
                                  error=f"some recipients refused: {refused}")
        return DeliveryResult(ok=True, retryable=False, status=250)
