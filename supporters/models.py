"""The log of supporters' requests about their own data (Ley 29733, GDPR).

Organisers must be able to show that requests were answered; they must not
learn from the log who asked. So a row holds the kind of request, the day and
what came of it: no address, no name, no id of a signature or subscriber, no
hash of anything, and no time of day that could be matched against a web
server's log.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SupporterRequest(models.Model):
    class Kind(models.TextChoices):
        ACCESS = "access", _("Access (see what we hold)")
        CORRECTION = "correction", _("Correction of the name")
        DELETION = "deletion", _("Deletion of everything")
        OBJECTION = "objection", _("Objection (no more campaign e-mail)")

    class Outcome(models.TextChoices):
        LINK_SENT = "link_sent", _("Link e-mailed to the address")
        NOTHING_HELD = "nothing_held", _("Nothing held for the address")
        DONE = "done", _("Done")
        NOTHING_TO_CHANGE = "nothing_to_change", _("Nothing left to change")

    kind = models.CharField(_("request"), max_length=12, choices=Kind.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    day = models.DateField(_("day"), default=timezone.localdate)

    class Meta:
        verbose_name = _("supporter's request")
        verbose_name_plural = _("supporters' requests")
        ordering = ["-day", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"
