"""The sign form: it checks the input's shape; petitions.services applies the rules."""

import copy
import functools

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import Field
from django.forms.forms import DeclarativeFieldsMetaclass
from django.forms.widgets import ChoiceWidget, Widget
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from . import validators

# Translated by the {% translate %} in the layout's HTML() template below;
# named here so makemessages, which does not read templates inside Python
# strings, puts it in the catalogue.
gettext_noop("Read how we keep your data safe")


@functools.lru_cache(maxsize=8)
def _country_options_html(language: str) -> str:
    # Built once per language: the list is constant, and rendering 250 options
    # through Django's widget templates costs ~20 ms on every page view.
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


def _duplicate(instance):
    """copy.copy's result for a plain object, without its generic protocol."""
    duplicate = object.__new__(type(instance))
    duplicate.__dict__.update(instance.__dict__)
    return duplicate


def _copy_field(field: Field, memo: dict) -> Field:
    """What Field.__deepcopy__ and Widget.__deepcopy__ (or ChoiceWidget's)
    return; any other kind of field or widget is deep-copied as Django does."""
    widget = field.widget
    widget_copier = type(widget).__deepcopy__
    if type(field).__deepcopy__ is not Field.__deepcopy__ or widget_copier not in (
        Widget.__deepcopy__,
        ChoiceWidget.__deepcopy__,
    ):
        return copy.deepcopy(field, memo)
    result = _duplicate(field)
    result.widget = _duplicate(widget)
    result.widget.attrs = widget.attrs.copy()
    if widget_copier is ChoiceWidget.__deepcopy__:
        # Past the `choices` setter: the list is normalised already, and
        # normalising it again was a sixtieth of the sign POST (py-spy).
        result.widget._choices = copy.copy(widget._choices)
    result.error_messages = field.error_messages.copy()
    result.validators = field.validators[:]
    return result


class _CheaplyCopiedFields(dict):
    def __deepcopy__(self, memo: dict) -> dict:
        return {name: _copy_field(field, memo) for name, field in self.items()}


class CheapFieldCopiesMetaclass(DeclarativeFieldsMetaclass):
    """Every form instance gets its own copy of the fields (BaseForm.__init__
    deep-copies base_fields), and through copy.copy's generic protocol those
    copies were two fifths of validating a sign POST (py-spy). The same
    copies, made directly."""

    def __new__(mcs, name, bases, attrs):
        new_class = super().__new__(mcs, name, bases, attrs)
        new_class.base_fields = _CheaplyCopiedFields(new_class.base_fields)
        return new_class


class PublicForm(forms.Form, metaclass=CheapFieldCopiesMetaclass):
    """A form the public POSTs in bulk (sign, subscribe)."""

    def _clean_fields(self):
        # Django's loop builds a BoundField for every field only to read the
        # field's value through it (and to evaluate its translated help
        # text), and each BoundField points back at the form: a reference
        # cycle that kept every sign POST's form, fields and widgets (80-odd
        # objects) alive until the cycle collector ran. The same reads,
        # without them; disabled fields and fields that clean their bound
        # field their own way (FileField) take Django's path.
        if any(
            field.disabled
            or type(field)._clean_bound_field is not Field._clean_bound_field
            for field in self.fields.values()
        ):
            return super()._clean_fields()
        for name, field in self.fields.items():
            try:
                self.cleaned_data[name] = field.clean(
                    self._widget_data_value(field.widget, self.add_prefix(name))
                )
                if hasattr(self, f"clean_{name}"):
                    self.cleaned_data[name] = getattr(self, f"clean_{name}")()
            except ValidationError as error:
                self.add_error(name, error)


def honeypot_field() -> forms.CharField:
    """A field people never see (the templates hide it, as `website`): bots
    that fill every input give themselves away. See HoneypotMixin."""
    return forms.CharField(
        required=False,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )


class HoneypotMixin:
    """For a form with `website = honeypot_field()`."""

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class SignatureForm(HoneypotMixin, PublicForm):
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
            attrs={"autocomplete": "email", "maxlength": validators.EMAIL_MAX_LENGTH}
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
            "delivers my name and country to the people it is addressed to, as "
            "the privacy notice explains."
        ),
        error_messages={"required": _("Tick this box so we can count your signature.")},
    )
    wants_updates = forms.BooleanField(
        label=_("Send me occasional campaign updates by e-mail."), required=False
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
        # validates it: the layout cost an eighth of the POST's CPU (py-spy).
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
        # it: running them here as well cost a twentieth of the sign POST. A
        # form refused anyway runs them, so that every problem shows at once.
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
