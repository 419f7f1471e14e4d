"""The sign form's error summary, rendered without a browser.

tests/e2e/test_signing_in_a_browser.py follows the summary in Chromium. Errors that
belong to no field (the petition closing between page and submission) cannot
be produced from a browser, so their place in the summary is checked here.
"""

from django.template.loader import render_to_string

from petitions.forms import SignatureForm
from petitions.models import Petition


def render_sign_form(form):
    return render_to_string(
        "petitions/includes/sign_form.html",
        {
            "form": form,
            "petition": Petition(slug="justice-for-peru"),
            "accepting_signatures": True,
        },
    )


def test_no_summary_before_the_form_is_sent():
    assert "error-summary" not in render_sign_form(SignatureForm())


def test_summary_lists_errors_without_a_field_first_then_links_to_fields():
    # No consent: refused by the form itself, which then applies the signer
    # rules too, so the missing address and country are listed as well.
    form = SignatureForm({"full_name": "Ana Quispe"})
    assert not form.is_valid()
    form.add_error(None, "This petition closed a moment ago.")
    html = render_sign_form(form)
    summary = html[html.index('<div class="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert 'role="alert" tabindex="-1" autofocus' in summary
    assert 'aria-labelledby="error-summary-heading"' in summary
    assert '<h3 id="error-summary-heading" class="h5">There is a problem</h3>' in (
        summary
    )
    assert summary.index("<li>This petition closed a moment ago.</li>") < (
        summary.index('<li><a href="#id_email">Enter your e-mail address.</a></li>')
    )
    assert '<li><a href="#id_country">Choose your country from the list.</a></li>' in (
        summary
    )
    assert "id_full_name" not in summary
