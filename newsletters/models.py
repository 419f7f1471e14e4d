"""The monthly "significant events" newsletter, written by editors in the admin.

An entry is public only when it is switched on *and* its publication time has
come, so editors can schedule an entry by giving it a time in the future.
"""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EntryQuerySet(models.QuerySet):
    def published(self):
        """Entries the public may see: switched on and due by now."""
        return self.filter(is_published=True, pub_date__lte=timezone.now())


class Entry(models.Model):
    title = models.CharField(
        _("title"),
        max_length=200,
        help_text=_("The entry’s headline, shown on the news page and in feeds."),
    )
    slug = models.SlugField(
        _("slug"),
        max_length=200,
        help_text=_("The last part of the entry’s address. It is filled in from "
                    "the title; it must be unique within the month the entry covers."),
    )  # fmt: skip
    month = models.DateField(
        _("month covered"),
        help_text=_("The month whose events this entry reports. Any day of the "
                    "month will do: it is saved as the first day."),
    )  # fmt: skip
    summary = models.CharField(
        _("summary"),
        max_length=300,
        help_text=_("One or two sentences shown in lists, on the home page and "
                    "in feeds."),
    )  # fmt: skip
    body = models.TextField(
        _("body"),
        help_text=_("The entry in Markdown. Scripts, styles, embedded frames and "
                    "unsafe links are removed when it is shown."),
    )  # fmt: skip
    pub_date = models.DateTimeField(
        _("publication date"),
        default=timezone.now,
        help_text=_("When the entry goes public. Choose a time in the future to "
                    "schedule it: it stays hidden until then, even when "
                    "‘Published’ is ticked."),
    )  # fmt: skip
    is_published = models.BooleanField(
        _("published"),
        default=False,
        help_text=_("Tick to publish the entry at its publication date. Leave it "
                    "unticked to keep the entry as a draft that only staff can "
                    "preview."),
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("newsletter entry")
        verbose_name_plural = _("newsletter entries")
        ordering = ["-month", "-pub_date"]
        get_latest_by = "pub_date"
        permissions = [("publish_entry", _("Can publish and unpublish entries"))]
        constraints = [
            models.UniqueConstraint(
                fields=["slug", "month"],
                name="unique_entry_slug_per_month",
                violation_error_message=_(
                    "Another entry for this month already uses this slug. "
                    "Change the slug (or the month) so each entry has its own "
                    "address."
                ),
            ),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="entry_month_is_first_day",
                violation_error_message=_(
                    "The month covered must be saved as the first day of the month."
                ),
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse(
            "newsletters:detail",
            kwargs={
                "year": self.month.year,
                "month": self.month.month,
                "slug": self.slug,
            },
        )

    def clean(self):
        # Editors pick any day of the month in the date widget.
        if self.month:
            self.month = self.month.replace(day=1)

    @property
    def is_public(self) -> bool:
        return self.is_published and self.pub_date <= timezone.now()

    @property
    def is_scheduled(self) -> bool:
        return self.is_published and self.pub_date > timezone.now()


class EntrySource(models.Model):
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="sources")
    title = models.CharField(
        _("title"),
        max_length=200,
        help_text=_("Who reported the facts, for example ‘Human Rights Watch’."),
    )
    url = models.URLField(
        _("link"), max_length=500, help_text=_("The address of the source.")
    )
    order = models.PositiveSmallIntegerField(
        _("order"), default=0, help_text=_("Sources are listed from low to high.")
    )

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["order", "pk"]

    def __str__(self):
        return self.title
