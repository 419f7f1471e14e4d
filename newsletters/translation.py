"""Fields of newsletter entries that editors keep in each language."""

from modeltranslation.translator import TranslationOptions, register

from .models import Entry, EntrySource, Issue


@register(Entry)
class EntryTranslationOptions(TranslationOptions):
    fields = ("title", "summary", "body")


@register(EntrySource)
class EntrySourceTranslationOptions(TranslationOptions):
    fields = ("title",)


@register(Issue)
class IssueTranslationOptions(TranslationOptions):
    fields = ("subject",)
