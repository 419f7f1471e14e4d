"""The public forms, given data dicts: what they clean and what they refuse."""

from newsletters.forms import SubscribeForm
from petitions.forms import SignatureForm

SIGNER = {
    "full_name": " Ana  Quispe ",
    "email": "Ana.Q@Example.ORG",
    "country": "pe",
    "consent": "on",
}


def test_a_valid_sign_form_cleans_its_fields():
    form = SignatureForm(SIGNER)
    assert form.is_valid(), form.errors
    # Trimmed here; the signer rules (signature_create) do the rest.
    assert form.cleaned_data == {
        "full_name": "Ana  Quispe",
        "email": "Ana.Q@Example.ORG",
        "country": "pe",
        "postcode": "",
        "consent": True,
        "name_withheld": False,
        "wants_updates": False,
        "show_publicly": False,
        "source": "",
        "website": "",
    }
    assert not form.is_bot


def test_a_refused_sign_form_shows_every_problem_beside_its_field():
    form = SignatureForm({"email": "not an address", "postcode": "x" * 40})
    assert not form.is_valid()
    assert set(form.errors) == {"full_name", "email", "country", "postcode", "consent"}
    assert form.errors["consent"] == ["Tick this box so we can count your signature."]


def test_the_honeypot_gives_a_bot_away():
    assert SignatureForm({**SIGNER, "website": "http://spam.example"}).is_bot


def test_no_form_shares_a_mutable_part_with_another_or_the_class():
    first, second = SignatureForm(), SignatureForm()
    first.fields["email"].widget.attrs["class"] = "is-invalid"
    first.fields["email"].error_messages["required"] = "changed"

    def extra_validator(value):
        pass

    first.fields["email"].validators.append(extra_validator)
    first.fields["country"].widget.choices.append(("XX", "Nowhere"))
    for untouched in (second.fields, SignatureForm.base_fields):
        assert "class" not in untouched["email"].widget.attrs
        assert untouched["email"].error_messages["required"] != "changed"
        assert extra_validator not in untouched["email"].validators
        assert ("XX", "Nowhere") not in untouched["country"].widget.choices
    # Crispy sets a widget's attributes when it draws a field.
    assert first.fields["email"].widget is not second.fields["email"].widget


def test_the_subscribe_form_cleans_the_address_or_explains():
    form = SubscribeForm({"email": " rosa@Example.org "})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["email"] == "rosa@example.org"
    refused = SubscribeForm({"email": "rosa@"})
    assert not refused.is_valid()
    assert refused.errors["email"] == ["Enter an e-mail address like name@example.org."]
