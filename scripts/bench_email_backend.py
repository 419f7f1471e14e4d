"""The bench's mail server: each message turned into the bytes an SMTP
server would be sent, then dropped.

The development default (the console backend) writes every message to the
outbox's stdout, which supervisord relays to the bench's log: with thousands
of e-mails a second that relay, not the outbox, is what the e-mail latency
would measure.
"""

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            message.message().as_bytes(linesep="\r\n")
        return len(email_messages)
