"""Milestones: a short note to opted-in signers when a petition reaches a goal.

`milestones_detect` compares each public petition's total (online and paper,
from the count rows) with its goals (`Petition.goals_reached`: the first goal,
then each doubling) and records a Milestone for each goal passed. The unique
(petition, goal) constraint makes a goal recorded, and so announced, once.

The notes go through the newsletter's delivery engine (newsletters.delivery,
whose docstring explains the lease rule and the stable Message-ID): every
five minutes organising.tasks.detect_milestones records new goals, applies
the lease rule to notes of dead workers and starts a send_milestone_notes
task for every milestone still to announce. The task queues one MilestoneNote
row per recipient who has none yet (`milestone_recipients`: the confirmed
signers of the petition who asked for updates, minus suppressed addresses)
and sends them in batches, each in the signer's language with their own
links, within the throttle the newsletter's issues share. A note interrupted
mid-send is sent again under the same Message-ID; the milestone is announced
once every note is settled.
"""

import logging

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from procrastinate import exceptions as procrastinate_exceptions
from procrastinate.contrib.django import app

from core.emails import email_message, stable_message_id
from newsletters import delivery
from newsletters.selectors import suppressed_addresses
from petitions import services
from petitions.emails import signature_link, signer_context
from petitions.models import Petition, Signature

from .models import Milestone, MilestoneNote

logger = logging.getLogger(__name__)

# Ids of a note's rows read per statement when queuing (one petition's
# confirmed signers can be many).
QUEUE_CHUNK = 2000
# The worker's task (organising.tasks) imports this module, so the job is
# deferred by the task's name; an unknown name raises rather than queue a job
# that nothing runs.
SEND_MILESTONE_NOTES_TASK = "organising.tasks.send_milestone_notes"


def milestones_detect(*, now=None) -> list[Milestone]:
    """Record the goals public petitions have newly reached; returns them.

    Of the goals one petition passed since the last run, only the highest is
    announced: one note, about the latest news.
    """
    now = now or timezone.now()
    new = []
    for petition in Petition.objects.public():
        reached = petition.goals_reached(services.petition_signature_count(petition))
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


def milestones_with_note_progress(queryset: QuerySet | None = None) -> QuerySet:
    """Milestones with how many of their notes were sent, are still waiting
    (queued or being sent), were not sent (failed, bounced, or cancelled
    because the signer stopped wanting updates), and were retransmitted after
    an interruption (same Message-ID)."""
    State = MilestoneNote.State
    queryset = Milestone.objects.all() if queryset is None else queryset
    return queryset.annotate(
        notes_sent=Count("notes", filter=Q(notes__state=State.SENT)),
        notes_waiting=Count(
            "notes", filter=Q(notes__state__in=[State.QUEUED, State.SENDING])
        ),
        notes_not_sent=Count(
            "notes",
            filter=Q(notes__state__in=[State.FAILED, State.BOUNCED, State.CANCELLED]),
        ),
        notes_retransmitted=Count("notes", filter=Q(notes__retransmitted__gt=0)),
    )


def milestone_recipients(*, milestone: Milestone) -> QuerySet:
    """Confirmed signers of the petition who asked for campaign updates,
    except addresses that bounced or marked our e-mail as spam."""
    return (
        Signature.objects.confirmed()
        .filter(petition_id=milestone.petition_id, wants_updates=True)
        .exclude(email="")
        .exclude(email_normalised__in=suppressed_addresses())
        .select_related("petition")
        .order_by("pk")
    )


def milestone_mark_announced(*, milestone: Milestone, now=None) -> None:
    Milestone.objects.filter(pk=milestone.pk, announced_at__isnull=True).update(
        announced_at=now or timezone.now()
    )


def note_message_id(*, milestone_id: int, signature_id: int) -> str:
    """The one Message-ID of a milestone's note to one signer."""
    return stable_message_id(
        salt="organising.note_message_id",
        prefix="milestone",
        parts=(milestone_id, signature_id),
    )


def build_milestone_email(
    *, signature: Signature, milestone: Milestone
) -> EmailMultiAlternatives:
    """The short note for one signer, in the language they signed in."""
    petition = signature.petition
    with translation.override(signature.consent_language or settings.LANGUAGE_CODE):
        context = {
            **signer_context(signature),
            "goal": intcomma(milestone.goal),
            "next_goal": intcomma(milestone.goal * 2),
            "unsubscribe_url": signature_link(signature, "unsubscribe"),
        }
        subject = _("We reached %(goal)s signatures: %(title)s") % {
            "goal": context["goal"],
            "title": petition.title,
        }
        text = render_to_string("organising/email/milestone.txt", context)
        html = render_to_string("organising/email/milestone.html", context)
    return email_message(
        subject=subject,
        text=text,
        html=html,
        to=signature.email,
        headers={
            "Message-ID": note_message_id(
                milestone_id=milestone.pk, signature_id=signature.pk
            ),
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "Auto-Submitted": "auto-generated",
        },
    )


# ------------------------------------------------------------------------------
# Sending the notes, through the newsletter's delivery engine
# ------------------------------------------------------------------------------
NOTES = delivery.Outbox(
    label="Milestone",
    table=MilestoneNote._meta.db_table,
    parent_column="milestone_id",
    recipient_column="signature_id",
    reconcile_lock_key=0x4E4F_5445,  # "NOTE"
    recipients=lambda milestone: milestone_recipients(milestone=milestone),
    message=lambda milestone, signature, _cache: build_milestone_email(
        signature=signature, milestone=milestone
    ),
)


def milestone_notes_queue(*, milestone: Milestone) -> None:
    """Queue a note for every recipient who has none yet.

    INSERT ... ON CONFLICT DO NOTHING on the unique (milestone, signature)
    constraint skips those already queued, so running twice queues once. The
    ids come from `milestone_recipients` in chunks rather than from an
    INSERT ... SELECT written in SQL, so who gets a note is decided in one
    place; a petition's signers are far fewer than the list's subscribers.
    """
    recipients = milestone_recipients(milestone=milestone).values_list("pk", flat=True)
    chunk = []
    for signature_id in recipients.iterator(chunk_size=QUEUE_CHUNK):
        chunk.append(MilestoneNote(milestone=milestone, signature_id=signature_id))
        if len(chunk) == QUEUE_CHUNK:
            MilestoneNote.objects.bulk_create(chunk, ignore_conflicts=True)
            chunk = []
    MilestoneNote.objects.bulk_create(chunk, ignore_conflicts=True)


def milestone_finish_if_done(*, milestone: Milestone, now=None) -> bool:
    """Mark the milestone announced once none of its notes is queued or being
    sent; one statement, so a note queued meanwhile keeps it open."""
    unsettled = MilestoneNote.objects.filter(
        milestone=OuterRef("pk"),
        state__in=[MilestoneNote.State.QUEUED, MilestoneNote.State.SENDING],
    )
    return bool(
        milestones_to_announce()
        .filter(pk=milestone.pk)
        .exclude(Exists(unsettled))
        .update(announced_at=now or timezone.now())
    )


def milestone_notes_send(*, milestone_id: int, **batch_options) -> delivery.BatchResult:
    """Queue a note for every recipient who has none yet, send the due notes
    in batches, then mark the milestone announced if every note is settled.

    Several runs may share the work; each claims its own rows. Notes waiting
    for a retry are sent by a later run (the detection tick starts one for
    every milestone still open).
    """
    milestone = (
        milestones_to_announce()
        .select_related("petition")
        .filter(pk=milestone_id)
        .first()
    )
    if milestone is None:
        return delivery.BatchResult()
    milestone_notes_queue(milestone=milestone)
    result = delivery.send_due(NOTES, parent=milestone, **batch_options)
    milestone_finish_if_done(milestone=milestone)
    return result


def milestones_start_notes() -> int:
    """Queue a task to send the notes of every milestone still to announce;
    returns how many tasks were queued. Notes held by a worker that died are
    given back first by the engine's lease rule."""
    in_doubt, requeued = delivery.reconcile_expired(NOTES)
    if in_doubt:
        logger.warning(
            "%s milestone notes in doubt (their worker died) queued again with "
            "the same Message-ID, %s others queued again",
            in_doubt,
            requeued,
        )
    tasks = 0
    for milestone in milestones_to_announce():
        try:
            with transaction.atomic():
                app.configure_task(
                    SEND_MILESTONE_NOTES_TASK,
                    allow_unknown=False,
                    queueing_lock=f"milestone-notes-{milestone.pk}",
                ).defer(milestone_id=milestone.pk)
        except procrastinate_exceptions.AlreadyEnqueued:
            continue
        tasks += 1
    return tasks
