"""The widget's compact sign form: the site's SignatureForm with fewer fields."""

from crispy_forms.bootstrap import StrictButton
from crispy_forms.layout import HTML, Div, Layout
from django.utils.translation import gettext_lazy as _

from petitions.forms import SignatureForm

# What a small frame has room for. Postcode and the two opt-ins are optional
# on the main form, so leaving them out asks nothing less of the signer; the
# consent box and its wording are the main form's own, and so is the choice
# to keep one's name out of the delivery, which the consent wording offers.
WIDGET_FIELDS = (
    "full_name",
    "email",
    "country",
    "consent",
    "name_withheld",
    "website",
)


class WidgetSignatureForm(SignatureForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in WIDGET_FIELDS:
                del self.fields[name]

    def layout(self) -> Layout:
        return Layout(
            "full_name",
            "email",
            "country",
            "consent",
            "name_withheld",
            # A new tab: the privacy notice would not fit in the frame.
            HTML(
                '{% load i18n %}<p class="small"><a href="{% url "pages:detail" '
                '"privacy" %}" target="_blank" rel="noopener">'
                '{% translate "Read how we keep your data safe" %}</a></p>'
            ),
            Div("website", css_class="hp-field", aria_hidden="true"),
            StrictButton(_("Sign the petition"), type="submit", css_class="btn-sign"),
        )
