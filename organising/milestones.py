"""Milestones: a short note to opted-in signers when a petition reaches a goal.

`milestones_detect` compares each public petition's total (online and paper,
from the count rows) with its goals — the first goal, then each doubling that
`Petition.goal_for` shows once the last is reached — and records a Milestone
for each goal passed. The unique (petition, goal) constraint makes a goal
recorded, and so announced, once.

Sending (`milestones_start_notes`, `milestone_notes_send`, run by the worker:
organising.tasks.detect_milestones every five minutes, send_milestone_notes per
milestone) goes to the confirmed signers of the petition who asked for
updates (`milestone_recipients`), each in the language they signed in.

Why not the newsletter's Delivery rows: those are per (issue, subscriber),
claimed by SQL written for newsletter issues and rendered from newsletter
entries, while a note is per (milestone, signature), carries that
signature's own withdraw link and goes to signers of one petition. Its own
small table (MilestoneNote) keeps the same promise with less: a signer's row
is inserted and committed (`sending`) before the message is handed to the
mail server, and the unique (milestone, signature) constraint refuses a
second one, so nobody gets one milestone note twice, even after a worker is
killed. As with the newsletter, the one message being sent at a crash is
left "in doubt" (not resent); everyone after it is sent by the next run. The
newsletter's shared throttle (newsletters.delivery.throttle_take) is used, so
notes and issues together keep to the provider's rate.
"""

import datetime
import logging
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from procrastinate import exceptions as procrastinate_exceptions
from procrastinate.contrib.django import app

from core.context_processors import site
from newsletters.delivery import throttle_take
from newsletters.models import Subscriber
from petitions import services
from petitions.emails import signature_link
from petitions.models import Petition, Signature

from .models import Milestone, MilestoneNote

logger = logging.getLogger(__name__)

IN_DOUBT = "interrupted while sending: may have been delivered"
# A note still `sending` this long after its row was written belongs to a
# worker that died mid-send (one message takes seconds).
SENDING_GIVEN_UP_AFTER = datetime.timedelta(minutes=15)
BATCH_SIZE = 200
# The worker's task (organising.tasks) imports this module, so the job is
# deferred by the task's name; an unknown name raises rather than queue a job
# that nothing runs.
SEND_MILESTONE_NOTES_TASK = "organising.tasks.send_milestone_notes"


def goals_reached(petition: Petition, count: int) -> list[int]:
    """Every goal the count has reached: the first goal, then its doublings."""
    goals = []
    goal = petition.goal
    while count >= goal:
        goals.append(goal)
        goal *= 2
    return goals


def milestones_detect(*, now=None) -> list[Milestone]:
    """Record the goals public petitions have newly reached; returns them.

    Of the goals one petition passed since the last run, only the highest is
    announced: one note, about the latest news.
    """
    now = now or timezone.now()
    new = []
    for petition in Petition.objects.public():
        reached = goals_reached(petition, services.petition_signature_count(petition))
        known = set(
            Milestone.objects.filter(petition=petition).values_list("goal", flat=True)
        )
        fresh = [goal for goal in reached if goal not in known]
        for goal in fresh:
            try:
                with transaction.atomic():
                    new.append(
                        Milestone.objects.create(
                            petition=petition,
                            goal=goal,
                            reached_at=now,
                            announce=goal == fresh[-1],
                        )
                    )
            except IntegrityError:
                continue  # another run recorded it first
    return new


def milestones_to_announce() -> QuerySet:
    return Milestone.objects.filter(announce=True, announced_at__isnull=True)


def milestone_recipients(*, milestone: Milestone) -> QuerySet:
    """Confirmed signers of the petition who asked for campaign updates,
    except addresses that bounced or marked our e-mail as spam."""
    suppressed = Subscriber.objects.filter(
        status__in=[Subscriber.Status.BOUNCED, Subscriber.Status.COMPLAINED]
    ).values("email_normalised")
    return (
        Signature.objects.confirmed()
        .filter(petition_id=milestone.petition_id, wants_updates=True)
        .exclude(email="")
        .exclude(email_normalised__in=suppressed)
        .select_related("petition")
        .order_by("pk")
    )


def milestone_mark_announced(*, milestone: Milestone, now=None) -> None:
    Milestone.objects.filter(pk=milestone.pk, announced_at__isnull=True).update(
        announced_at=now or timezone.now()
    )


def build_milestone_email(
    *, signature: Signature, milestone: Milestone
) -> EmailMultiAlternatives:
    """The short note for one signer, in the language they signed in."""
    petition = signature.petition
    with translation.override(signature.consent_language or settings.LANGUAGE_CODE):
        context = {
            # Who runs the campaign, named in every e-mail.
            **site(None),
            "signature": signature,
            "petition": petition,
            "first_name": signature.public_first_name,
            "goal": intcomma(milestone.goal),
            "next_goal": intcomma(milestone.goal * 2),
            "petition_url": f"{settings.SITE_URL}{petition.get_absolute_url()}",
            "withdraw_url": signature_link(signature, "withdraw"),
            "unsubscribe_url": signature_link(signature, "unsubscribe"),
        }
        subject = _("We reached %(goal)s signatures: %(title)s") % {
            "goal": context["goal"],
            "title": petition.title,
        }
        text = render_to_string("organising/email/milestone.txt", context)
        html = render_to_string("organising/email/milestone.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[signature.email],
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


# ------------------------------------------------------------------------------
# Sending the notes
# ------------------------------------------------------------------------------
@dataclass
class NotesResult:
    sent: int = 0
    failed: int = 0
    in_doubt: int = 0


class SendingInterrupted(Exception):
    """The mail server went away mid-message; the task stops (and is retried)."""


_CLAIM_SQL = """
    INSERT INTO petitions_milestonenote
        (milestone_id, signature_id, state, created_at, last_error)
    VALUES (%s, %s, 'sending', now(), '')
    ON CONFLICT (milestone_id, signature_id) DO NOTHING
    RETURNING id
"""


def _claim(*, milestone_id: int, signature_id: int) -> int | None:
    """Write (and, in autocommit, commit) the note's row before sending; None
    if the signer already has one: sent, in doubt, or being sent elsewhere."""
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [milestone_id, signature_id])
        row = cursor.fetchone()
    return row[0] if row else None


def _settle(note_id: int, state: str, error: str = "") -> None:
    MilestoneNote.objects.filter(pk=note_id, state=MilestoneNote.State.SENDING).update(
        state=state,
        last_error=error,
        sent_at=timezone.now() if state == MilestoneNote.State.SENT else None,
    )


def _unsent(milestone: Milestone) -> QuerySet:
    return milestone_recipients(milestone=milestone).exclude(
        pk__in=MilestoneNote.objects.filter(milestone=milestone).values("signature_id")
    )


def milestone_notes_send(
    *, milestone_id: int, batch_size: int = BATCH_SIZE, rate: float | None = None
) -> NotesResult:
    """Send a milestone's note to every recipient who has none yet, then mark
    the milestone announced. Several runs may share the work; the unique
    constraint gives each signer to one of them."""
    rate = settings.NEWSLETTER_RATE_PER_SECOND if rate is None else rate
    result = NotesResult()
    milestone = (
        milestones_to_announce()
        .select_related("petition")
        .filter(pk=milestone_id)
        .first()
    )
    if milestone is None:
        return result
    # Opened before any row is written: a server that cannot be reached
    # leaves nothing claimed, and the task's retry tries again later.
    smtp = get_connection()
    smtp.open()
    try:
        while batch := list(_unsent(milestone)[:batch_size]):
            permits = 0
            for index, signature in enumerate(batch):
                note_id = _claim(milestone_id=milestone.pk, signature_id=signature.pk)
                if note_id is None:
                    continue
                if permits == 0:
                    permits = throttle_take(want=len(batch) - index, rate=rate)
                permits -= 1
                message = build_milestone_email(
                    signature=signature, milestone=milestone
                )
                message.connection = smtp
                try:
                    smtp.send_messages([message])
                except (
                    smtplib.SMTPRecipientsRefused,
                    smtplib.SMTPResponseException,
                ) as error:
                    # Refused outright: not delivered. At most once, so not
                    # tried again either; a milestone note is not worth a
                    # retry queue of its own.
                    _settle(note_id, MilestoneNote.State.FAILED, type(error).__name__)
                    result.failed += 1
                    continue
                except Exception as error:
                    _settle(note_id, MilestoneNote.State.FAILED, IN_DOUBT)
                    result.in_doubt += 1
                    logger.warning(
                        "Milestone %s: note %s in doubt (%s)",
                        milestone.pk,
                        note_id,
                        type(error).__name__,
                    )
                    raise SendingInterrupted(type(error).__name__) from None
                _settle(note_id, MilestoneNote.State.SENT)
                result.sent += 1
    finally:
        try:
            smtp.close()
        except Exception:
            # A connection that broke is closed either way.
            pass
    milestone_mark_announced(milestone=milestone)
    return result


def milestones_start_notes(*, now=None) -> int:
    """Queue the sending of every milestone still to announce; returns how
    many tasks were queued. Notes left `sending` by a dead worker are marked
    in doubt first (never resent)."""
    now = now or timezone.now()
    stale = MilestoneNote.objects.filter(
        state=MilestoneNote.State.SENDING, created_at__lt=now - SENDING_GIVEN_UP_AFTER
    ).update(state=MilestoneNote.State.FAILED, last_error=IN_DOUBT)
    if stale:
        logger.warning("%s milestone notes in doubt: their worker died", stale)
    queued = 0
    for milestone_id in milestones_to_announce().values_list("pk", flat=True):
        try:
            with transaction.atomic():
                app.configure_task(
                    SEND_MILESTONE_NOTES_TASK,
                    allow_unknown=False,
                    queueing_lock=f"milestone-notes-{milestone_id}",
                ).defer(milestone_id=milestone_id)
        except procrastinate_exceptions.AlreadyEnqueued:
            continue
        queued += 1
    return queued
