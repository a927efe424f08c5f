"""Sending over SMTP: one connection carries many messages and is reopened when the server drops
it; a temporary refusal (4xx) is retried after a short pause. The envelope is spoken command by
command (MAIL, RCPT, DATA) so that each recipient's answer and the server's final reply are
known; what cannot be retried safely (the connection lost while the server had the message) is
reported, never sent twice behind the user's back."""

from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import MailError

TLS_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
BACKOFF: tuple[float, ...] = (1.0, 3.0, 9.0)   # seconds before each retry of a 4xx


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int | None = None
    tls: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)   # never printed, logged or stored
    timeout: float = 60.0
    cafile: Path | None = None   # a CA to trust instead of the system's (tests' own CA)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port or DEFAULT_PORTS[self.tls]}"


@dataclass
class Delivery:
    """What became of one message: who accepted it, who did not and why, the final reply."""
    accepted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)   # recipient -> reason
    reply: str = ""
    lost: set[str] = field(default_factory=set)   # failed for the connection, not for a reply

    @property
    def unanswered(self) -> bool:
        """Nothing went and no reply said why: the server, not this message, may be the problem."""
        return bool(self.failed) and not self.accepted and set(self.failed) <= self.lost


class Unavailable(MailError):
    """The server cannot be reached or refuses us (connection, TLS, login): nothing can go."""


class _Retry(Exception):
    """Nothing was handed over, so the whole attempt may be repeated."""

    def __init__(self, reason: str, lost: bool = False) -> None:
        super().__init__(reason)
        self.lost = lost   # the connection failed, rather than the server answered 4xx


def reply_text(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


class Smtp:
    """A lazily opened SMTP connection, reused for every message and reopened after a drop."""

    def __init__(self, settings: SmtpSettings, backoff: tuple[float, ...] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.backoff = BACKOFF if backoff is None else backoff
        self.sleep = sleep
        self._connection: smtplib.SMTP | None = None

    def __enter__(self) -> "Smtp":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close(polite=True)

    def close(self, polite: bool = False) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit() if polite else connection.close()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def connect(self) -> smtplib.SMTP:
        """Open, secure and log in; a connection that fails is tried again a few times, a
        certificate or login that is refused is not."""
        settings, last = self.settings, ""
        context = ssl.create_default_context(cafile=str(settings.cafile) if settings.cafile else None)
        port = settings.port or DEFAULT_PORTS[settings.tls]
        for delay in (*self.backoff, None):
            connection = None
            try:
                if settings.tls == "ssl":
                    connection = smtplib.SMTP_SSL(settings.host, port, timeout=settings.timeout,
                                                  context=context)
                else:
                    connection = smtplib.SMTP(settings.host, port, timeout=settings.timeout)
                connection.ehlo()
                if settings.tls == "starttls":
                    connection.starttls(context=context)
                    connection.ehlo()
                if settings.user:
                    connection.login(settings.user, settings.password or "")
                return connection
            except OSError as exc:   # smtplib's and ssl's errors are OSErrors too
                last = describe(exc)
                final = isinstance(exc, ssl.SSLError) or (
                    isinstance(exc, smtplib.SMTPException)
                    and not isinstance(exc, (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected)))
            if connection is not None:
                connection.close()
            if final or delay is None:
                break
            self.sleep(delay)
        raise Unavailable(f"cannot send through {settings.address} ({settings.tls}): {last}")

    def send(self, sender: str, recipients: list[str], data: bytes) -> Delivery:
        """Deliver `data` to `recipients`; a 4xx answer is retried for whoever got it, a 5xx
        answer or a connection lost during DATA is that recipient's failure. Raises
        Unavailable only when the server cannot be reached at all."""
        delivery, pending = Delivery(), list(recipients)
        for attempt, delay in enumerate((*self.backoff, None), start=1):
            lost = False
            try:
                deferred = self._transaction(sender, pending, data, delivery)
            except _Retry as exc:   # all again, but for recipients already refused for good
                deferred = {r: str(exc) for r in pending if r not in delivery.failed}
                lost = exc.lost
            if not deferred:
                break
            if delay is None:
                tries = f" (gave up after {attempt} attempts)" if attempt > 1 else ""
                delivery.failed.update({r: reason + tries for r, reason in deferred.items()})
                if lost:
                    delivery.lost.update(deferred)
                break
            pending = list(deferred)
            self.sleep(delay)
        return delivery

    def _transaction(self, sender: str, recipients: list[str], data: bytes,
                     delivery: Delivery) -> dict[str, str]:
        """One MAIL/RCPT/DATA exchange; returns the recipients deferred with a 4xx."""
        if self._connection is None:
            self._connection = self.connect()
        connection, deferred = self._connection, {}
        try:
            code, message = connection.mail(sender)
            if code != 250:
                self._reset(code)
                if 400 <= code < 500:
                    raise _Retry(f"sender refused: {reply_text(code, message)}")
                delivery.failed.update({r: f"sender refused: {reply_text(code, message)}"
                                        for r in recipients})
                return {}
            accepted = []
            for recipient in recipients:
                code, message = connection.rcpt(recipient)
                if code in (250, 251):
                    accepted.append(recipient)
                elif 400 <= code < 500:
                    deferred[recipient] = f"recipient deferred: {reply_text(code, message)}"
                else:
                    delivery.failed[recipient] = f"recipient refused: {reply_text(code, message)}"
            if not accepted:
                self._reset(None)
                return deferred
        except OSError as exc:   # includes SMTPServerDisconnected and timeouts
            self.close()
            raise _Retry(f"connection lost before the message was sent: {describe(exc)}",
                         lost=True) from None
        try:
            code, message = connection.data(data)
        except smtplib.SMTPResponseException as exc:   # DATA itself refused: nothing was sent
            code, message = exc.smtp_code, exc.smtp_error
        except OSError as exc:
            self.close()
            reason = f"cut off while sending the message ({describe(exc)})"
            delivery.failed.update({recipient: reason for recipient in accepted})
            delivery.lost.update(accepted)
            return deferred
        if code == 250:
            delivery.accepted.extend(accepted)
            delivery.reply = reply_text(code, message)
        elif 400 <= code < 500:
            self._reset(code)
            deferred.update({r: f"message deferred: {reply_text(code, message)}" for r in accepted})
        else:
            self._reset(code)
            delivery.failed.update({r: f"message refused: {reply_text(code, message)}" for r in accepted})
        return deferred

    def _reset(self, code: int | None) -> None:
        """Forget a half-made envelope; a 421 means the server is closing the connection."""
        if code == 421:
            self.close()
            return
        try:
            self._connection.rset()
        except (smtplib.SMTPException, OSError):
            self.close()


def describe(exc: BaseException) -> str:
    """An exception in a few words, without any credential (smtplib's messages carry none)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return reply_text(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
