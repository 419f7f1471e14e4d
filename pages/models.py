"""Campaign pages that staff keep current: 'What happened', privacy, accessibility."""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Page(models.Model):
    slug = models.SlugField(
        unique=True,
        help_text=_(
            "The page's address. The site links to 'what-happened', "
            "'privacy' and 'accessibility', so keep those as they are."
        ),
    )
    title = models.CharField(max_length=200, help_text=_("The page's main heading."))
    summary = models.CharField(
        max_length=300,
        help_text=_("One or two sentences shown in search results and link previews."),
    )
    body = models.TextField(
        help_text=_(
            "The page text in Markdown. Scripts and unsafe links are removed "
            "when it is shown."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("pages:detail", kwargs={"slug": self.slug})


class TimelineEvent(models.Model):
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="events")
    date = models.DateField(
        help_text=_(
            "Used to order the timeline. Where only the month is known, "
            "use its first day."
        ),
    )
    date_label = models.CharField(
        max_length=60,
        help_text=_("The date as readers see it, for example 'December 2022'."),
    )
    title = models.CharField(max_length=200)
    body = models.TextField(help_text=_("What happened, in Markdown."))
    source_title = models.CharField(
        max_length=200, blank=True, help_text=_("Who reported this fact.")
    )
    source_url = models.URLField(blank=True)

    class Meta:
        ordering = ["date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["page", "date", "title"], name="unique_timeline_event"
            )
        ]

    def __str__(self):
        return f"{self.date_label}: {self.title}"
