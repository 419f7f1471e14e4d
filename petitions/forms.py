"""The sign form: it checks the input's shape; petitions.services applies the rules."""

import functools

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from core import email_addresses
from core.forms import PublicForm, honeypot_field

from . import validators

# Translated by the {% translate %} in the layout's HTML() template below;
# named here so makemessages, which does not read templates inside Python
# strings, puts it in the catalogue.
gettext_noop("Read how we keep your data safe")


@functools.lru_cache(maxsize=8)
def _country_options_html(language: str) -> str:
    # Built once per language: the list is constant, and rendering 250 options
    # through Django's widget templates on every page view is slow.
    return "".join(
        f'<option value="{code}">{escape(name)}</option>' for code, name in countries
    )


class FastCountrySelect(forms.Select):
    """A <select> of every country, rendered from a cached string."""

    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = self.build_attrs(self.attrs, attrs)
        attributes = "".join(
            f' {key}="{escape(val)}"' if val is not True else f" {key}"
            for key, val in final_attrs.items()
            if val is not False and val is not None
        )
        options = _country_options_html(get_language() or "en")
        if value and value in countries:
            options = options.replace(
                f'<option value="{value}">', f'<option value="{value}" selected>', 1
            )
            placeholder = ""
        else:
            placeholder = " selected"
        prompt = escape(_("Choose your country"))  # outside the f-string for xgettext
        return mark_safe(
            f'<select name="{escape(name)}"{attributes}>'
            f'<option value=""{placeholder}>{prompt}</option>'
            f"{options}</select>"
        )


class SignatureForm(PublicForm):
    full_name = forms.CharField(
        label=_("Full name"),
        required=False,  # checked by clean_full_name, with our own messages
        widget=forms.TextInput(
            attrs={"autocomplete": "name", "maxlength": validators.NAME_MAX_LENGTH}
        ),
    )
    email = forms.CharField(
        label=_("E-mail address"),
        required=False,
        help_text=_("We send a link to confirm your signature. It is never shown."),
        widget=forms.EmailInput(
            attrs={
                "autocomplete": "email",
                "maxlength": email_addresses.EMAIL_MAX_LENGTH,
            }
        ),
    )
    country = forms.CharField(
        label=_("Country"),
        required=False,
        widget=FastCountrySelect(
            attrs={"autocomplete": "country", "class": "form-select"}
        ),
    )
    postcode = forms.CharField(
        label=_("Postcode (optional)"),
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that the campaign keeps my signature for this petition and "
            "delivers my name and country to the people it is addressed to "
            "(unless I ask below for my name to be left out), as the privacy "
            "notice explains."
        ),
        error_messages={"required": _("Tick this box so we can count your signature.")},
    )
    wants_updates = forms.BooleanField(
        label=_("Send me occasional campaign updates by e-mail."), required=False
    )
    name_withheld = forms.BooleanField(
        label=_(
            "Count my signature, but leave my name out of what is delivered to "
            "the people this petition is addressed to."
        ),
        help_text=_("They are told how many signers asked for this, never who."),
        required=False,
    )
    show_publicly = forms.BooleanField(
        label=_("Show my first name and country on this site."),
        help_text=_(
            "Off unless you tick it. Your full name and e-mail are never shown."
        ),
        required=False,
    )
    # Where the signer came from (?source=...): filled in by static/js/source.js,
    # never by the cached page; see petitions.sources.
    source = forms.CharField(required=False, widget=forms.HiddenInput)
    website = honeypot_field()

    @functools.cached_property
    def helper(self) -> FormHelper:
        # Built when the form is drawn, not for every sign POST that only
        # validates it and never draws the layout.
        helper = FormHelper()
        # The template writes the <form> tag; there is no CSRF token, since
        # the public forms are checked by core.fetch_metadata instead.
        helper.form_tag = False
        helper.disable_csrf = True
        helper.layout = self.layout()
        return helper

    def layout(self) -> Layout:
        return Layout(
            "full_name",
            "email",
            "country",
            "postcode",
            "consent",
            HTML(
                '{% load i18n %}<p class="small"><a href="{% url "pages:detail" '
                '"privacy" %}">{% translate "Read how we keep your data safe" %}'
                "</a></p>"
            ),
            "name_withheld",
            "wants_updates",
            "show_publicly",
            "source",
            Div("website", css_class="hp-field", aria_hidden="true"),
            StrictButton(
                _("Sign the petition"),
                type="submit",
                css_class="btn-sign btn-lg w-100",
            ),
        )

    def clean(self):
        # The signer rules are signature_create's (commands and the admin
        # store through it too), and the views put its ValidationError on
        # this form's fields. So a form that is otherwise fine leaves them to
        # it rather than run them twice. A form refused anyway runs them, so
        # that every problem shows at once.
        cleaned = super().clean()
        if not self.errors:
            return cleaned
        try:
            validators.clean_signer(
                full_name=cleaned.get("full_name", ""),
                email=cleaned.get("email", ""),
                country=cleaned.get("country", ""),
                postcode=cleaned.get("postcode", ""),
            )
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned
