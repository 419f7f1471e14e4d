"""Fields of newsletter entries that editors keep in each language."""

from modeltranslation.translator import TranslationOptions, register

from .models import Entry, EntrySource


@register(Entry)
class EntryTranslationOptions(TranslationOptions):
    fields = ("title", "summary", "body")


@register(EntrySource)
class EntrySourceTranslationOptions(TranslationOptions):
    fields = ("title",)
