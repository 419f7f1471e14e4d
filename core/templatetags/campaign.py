from django import template
from django.conf import settings
from django.urls import reverse, translate_url
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_info, override
from django.utils.translation import gettext as _
from modeltranslation.translator import translator
from modeltranslation.utils import build_localized_fieldname

from core.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    return render_markdown(text)


def shows_english_in_place_of_translation(obj, field_name: str) -> bool:
    """True when `obj.<field_name>` falls back to English for the active language."""
    language = get_language() or settings.LANGUAGE_CODE
    if language == settings.LANGUAGE_CODE:
        return False
    own = getattr(obj, build_localized_fieldname(field_name, language), None)
    english = getattr(
        obj, build_localized_fieldname(field_name, settings.LANGUAGE_CODE), None
    )
    return not own and bool(english)


@register.filter
def fallback_lang(obj, field_name: str) -> SafeString:
    """` lang="en"` for an element whose text is English standing in for a
    missing translation, so screen readers pronounce it as English."""
    if shows_english_in_place_of_translation(obj, field_name):
        return mark_safe(f' lang="{settings.LANGUAGE_CODE}"')
    return mark_safe("")


@register.simple_tag
def translation_notice(obj, short=False) -> str:
    """A visible note when any of obj's translated text is shown in English."""
    fields = translator.get_options_for_model(type(obj)).fields
    if not any(
        shows_english_in_place_of_translation(obj, name)
        for name in fields
        if not name.endswith("_html")
    ):
        return ""
    if short:
        return format_html(
            ' <span class="translation-missing-badge">{}</span>', _("in English")
        )
    return format_html(
        '<p class="translation-missing" role="note">{}</p>',
        _(
            "Part of this text is not yet available in this language, so it is "
            "shown in English."
        ),
    )


@register.simple_tag(takes_context=True)
def language_versions(context) -> list[dict]:
    """This page in each language: code, name in that language, URL, current.

    A view can name the page with `canonical_path`: the sign form shown again
    after a POST names the petition page, since the sign URL takes only POSTs,
    and cached page shells name a path without the query string they were
    first rendered for.
    """
    request = context.get("request")
    path = context.get("canonical_path")
    if path is None and request is not None:
        path = request.get_full_path() if request.method == "GET" else request.path
    path = site_relative(path or "/")
    current = get_language()
    versions = []
    for code, _name in settings.LANGUAGES:
        url = site_relative(translate_url(path, code))
        if code != current and url == path:
            # No such page to translate (a 404): offer that language's home page.
            with override(code):
                url = reverse("home")
        versions.append(
            {
                "code": code,
                "name": get_language_info(code)["name_local"].capitalize(),
                "url": url,
                "current": code == current,
            }
        )
    return versions


def site_relative(path: str) -> str:
    """The path with a single leading slash. A request for `//evil.example/`
    has a path that a browser reads as another site's address (and `/\\`
    too, for some browsers); translate_url would keep that host in the link."""
    return "/" + path.lstrip("/\\")
