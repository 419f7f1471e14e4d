"""Reports by human rights organisations that the campaign summarises."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ReportQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class Report(models.Model):
    title = models.CharField(
        _("title"), max_length=200, help_text=_("The report’s title as we show it.")
    )
    slug = models.SlugField(
        _("slug"),
        max_length=200,
        unique=True,
        help_text=_("The last part of the report page’s address. It is filled in "
                    "from the title."),
    )  # fmt: skip
    publisher = models.CharField(
        _("publisher"),
        max_length=200,
        help_text=_("The organisation that wrote the report, for example "
                    "‘Amnesty International’."),
    )  # fmt: skip
    year = models.PositiveSmallIntegerField(
        _("year"),
        validators=[MinValueValidator(1990), MaxValueValidator(2100)],
        help_text=_("The year the report covers."),
    )
    summary = models.TextField(
        _("summary"),
        help_text=_("What the report says, in a short paragraph of Markdown. "
                    "Scripts and unsafe links are removed when it is shown."),
    )  # fmt: skip
    full_text_url = models.URLField(
        _("link to the full text"),
        max_length=500,
        help_text=_("Where readers can read the whole report on the publisher’s "
                    "site."),
    )  # fmt: skip
    is_published = models.BooleanField(
        _("published"),
        default=False,
        help_text=_("Tick to show the report on the site. Unticked, it is hidden "
                    "from the public."),
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-year", "-created_at"]

    def __str__(self):
        return f"{self.title} ({self.publisher}, {self.year})"

    def get_absolute_url(self):
        return reverse("reports:detail", kwargs={"slug": self.slug})


class ReportConcern(models.Model):
    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="concerns"
    )
    text = models.CharField(
        _("concern"),
        max_length=300,
        help_text=_("One concern the report raises, as a short sentence."),
    )
    order = models.PositiveSmallIntegerField(
        _("order"), default=0, help_text=_("Concerns are listed from low to high.")
    )

    class Meta:
        verbose_name = _("key concern")
        verbose_name_plural = _("key concerns")
        ordering = ["order", "pk"]

    def __str__(self):
        return self.text
