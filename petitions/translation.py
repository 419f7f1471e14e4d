"""Fields of a petition that editors keep in each language."""

from modeltranslation.translator import TranslationOptions, register

from .models import Petition, SigningPause, SiteBanner


@register(Petition)
class PetitionTranslationOptions(TranslationOptions):
    fields = ("title", "summary", "body", "body_html", "addressed_to")


@register(SigningPause)
class SigningPauseTranslationOptions(TranslationOptions):
    fields = ("message",)


@register(SiteBanner)
class SiteBannerTranslationOptions(TranslationOptions):
    fields = ("text",)
