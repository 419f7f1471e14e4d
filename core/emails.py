"""What every e-mail the campaign sends has in common: the site's languages,
its host name, a multipart message (text and HTML) from the campaign, stable
Message-IDs, and the sorting of SMTP errors into temporary and permanent.

The newsletter's deliveries (newsletters.delivery) and the signers' outbox
(petitions.outbox) are both at-least-once: a message interrupted mid-send is
sent again, under the same Message-ID, so the receiving mailbox can file the
repeat as one message (RFC 5322).
"""

import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.crypto import salted_hmac


def site_language(language: str) -> str:
    """One of the site's languages; anything else gets the default."""
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def site_host() -> str:
    """The host in SITE_URL, for Message-IDs and List-Ids."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def email_message(
    *, subject: str, text: str, html: str, to: str, headers: dict, connection=None
) -> EmailMultiAlternatives:
    """A message from DEFAULT_FROM_EMAIL to one address, text with an HTML
    alternative."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=connection,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


def stable_message_id(*, salt: str, prefix: str, parts: tuple) -> str:
    """The one Message-ID of the message these parts name, on every attempt.

    Ids and a keyed digest: no address, nothing another site (or a guess)
    could produce for our domain.
    """
    key = ".".join(str(part) for part in parts)
    digest = salted_hmac(salt, key).hexdigest()[:16]
    return f"<{prefix}-{key}.{digest}@{site_host()}>"


def smtp_code(error: Exception) -> int | None:
    """The SMTP reply code of a refusal (4xx temporary, 5xx permanent), or
    None when the server gave none (a connection that broke, say)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return codes[0] if codes else None
    return getattr(error, "smtp_code", None)


def smtp_close(connection) -> None:
    """Close a mail connection after a batch. One that broke mid-batch is
    closed either way, and its error was already handled where it struck."""
    try:
        connection.close()
    except Exception:
        pass
