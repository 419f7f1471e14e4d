"""Send the signers' e-mails from the signature rows (petitions.outbox).

    manage.py send_signature_emails            run until stopped (supervisord)
    manage.py send_signature_emails --once     send what is due, then stop

A loop: claim a batch, send it, and when nothing is due look again after
SIGNATURE_EMAIL_POLL_SECONDS. Polling the small partial index keeps the sign
POST free of any NOTIFY, and a confirmation out within a poll of its signing.
Several of these may run side by side: each claims its own rows.

A database restart breaks the connection; the loop drops it, waits a moment
and goes on with a fresh one. The rows it held come back when their lease
runs out, to be sent under the same Message-ID.
"""

import logging
import os
import signal
import socket
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError

from core.db import connection_drop_if_broken
from petitions.outbox import (
    OUTBOX_PROCESS_KIND,
    heartbeat_forget,
    heartbeat_record,
    signature_emails_send,
)

logger = logging.getLogger(__name__)

RECONNECT_SECONDS = 1.0
# The heartbeat is written at most this often, not at every poll: the
# "outbox silent" alert waits far longer than this.
HEARTBEAT_SECONDS = 5.0


class Command(BaseCommand):
    help = "Send the confirmation e-mails of new signatures, in a loop."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Send every e-mail that is due now, then stop.",
        )

    def handle(self, *args, once=False, **options):
        self.stopping = False
        if not once:
            # supervisord stops with TERM: finish the batch in hand, then stop.
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
        poll = settings.SIGNATURE_EMAIL_POLL_SECONDS
        sent = 0
        process = f"{OUTBOX_PROCESS_KIND}:{socket.gethostname()}:{os.getpid()}"
        last_beat = None
        while not self.stopping:
            connection_drop_if_broken()
            try:
                if (
                    last_beat is None
                    or time.monotonic() - last_beat >= HEARTBEAT_SECONDS
                ):
                    heartbeat_record(kind=OUTBOX_PROCESS_KIND, process=process)
                    last_beat = time.monotonic()
                result = signature_emails_send()
            except DatabaseError as error:
                logger.warning(
                    "Signature e-mails: database unavailable (%s); retrying",
                    type(error).__name__,
                )
                connection_drop_if_broken()
                time.sleep(RECONNECT_SECONDS)
                continue
            sent += result.sent
            if once and not result.claimed:
                break
            if not result.claimed:
                time.sleep(poll)
        if once:
            self.stdout.write(f"{sent} sent")
        try:
            heartbeat_forget(process=process)
        except DatabaseError:
            # Left behind, the row only ages; the alert names the process.
            pass

    def _stop(self, signum, frame):
        self.stopping = True
