"""Fields of reports that editors keep in each language."""

from modeltranslation.translator import TranslationOptions, register

from .models import Report, ReportConcern


@register(Report)
class ReportTranslationOptions(TranslationOptions):
    fields = ("title", "publisher", "summary")


@register(ReportConcern)
class ReportConcernTranslationOptions(TranslationOptions):
    fields = ("text",)
