"""Milestones: a short note to opted-in signers when a petition reaches a goal.

`milestones_detect` compares each public petition's total (online and paper,
from the count rows) with its goals — the first goal, then each doubling that
`Petition.goal_for` shows once the last is reached — and records a Milestone
for each goal passed. The unique (petition, goal) constraint makes a goal
recorded, and so announced, once.

Delivery belongs to the newsletter's sending machinery, which sends in
batches, retries and stops for unsubscribes. It needs three things from here:

- `milestones_to_announce()`: milestones whose note is still to go out;
- `milestone_recipients(milestone=...)`: the confirmed signers of that
  petition who asked for updates (a queryset; iterate it in batches);
- `build_milestone_email(signature=..., milestone=...)`: the e-mail for one
  of them, in the language they signed in, with withdraw and unsubscribe links;

and it calls `milestone_mark_announced(milestone=...)` when done. Until it is
merged, `manage.py detect_milestones` records milestones (and lists them).
"""

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import services
from .emails import signature_link
from .models import Milestone, Petition, Signature


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
    """Confirmed signers of the petition who asked for campaign updates."""
    return (
        Signature.objects.confirmed()
        .filter(petition_id=milestone.petition_id, wants_updates=True)
        .exclude(email="")
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
        text = render_to_string("petitions/email/milestone.txt", context)
        html = render_to_string("petitions/email/milestone.html", context)
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
