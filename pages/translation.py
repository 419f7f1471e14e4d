"""Fields of campaign pages that editors keep in each language."""

from modeltranslation.translator import TranslationOptions, register

from .models import Page, TimelineEvent


@register(Page)
class PageTranslationOptions(TranslationOptions):
    fields = ("title", "summary", "body")


@register(TimelineEvent)
class TimelineEventTranslationOptions(TranslationOptions):
    fields = ("date_label", "title", "body", "source_title")
