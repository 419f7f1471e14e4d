"""The public forms' own copies of their fields and their cleaning without
BoundFields (petitions.forms.PublicForm)."""

import copy
import gc
import types
import weakref

from django import forms

from newsletters.forms import SubscribeForm
from petitions.forms import PublicForm, SignatureForm


class _ChoiceAndCustomForm(PublicForm):
    colour = forms.ChoiceField(choices=[("r", "Red"), ("g", "Green")])
    when = forms.DateField(widget=forms.SelectDateWidget)


class _DisabledFieldForm(PublicForm):
    colour = forms.ChoiceField(
        choices=[("r", "Red"), ("g", "Green")], initial="r", disabled=True
    )
    when = forms.DateField(required=False)


def _state(field: forms.Field) -> dict:
    return {
        "field": {k: v for k, v in vars(field).items() if k != "widget"},
        "widget": vars(field.widget),
        "type": (type(field), type(field.widget)),
    }


def test_each_form_gets_fields_equal_to_djangos_deep_copy():
    for form_class in (SignatureForm, SubscribeForm, _ChoiceAndCustomForm):
        ours = form_class().fields
        djangos = {
            name: copy.deepcopy(field) for name, field in form_class.base_fields.items()
        }
        assert list(ours) == list(djangos)
        for name in ours:
            assert _state(ours[name]) == _state(djangos[name]), name


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


def test_fields_django_copies_its_own_way_are_still_deep_copied():
    first, second = _ChoiceAndCustomForm(), _ChoiceAndCustomForm()
    first.fields["colour"].choices = [("b", "Blue")]
    assert second.fields["colour"].choices == [("r", "Red"), ("g", "Green")]
    assert first.fields["when"].widget is not second.fields["when"].widget


SIGN_INPUTS = [
    {"full_name": "Ana", "email": "ana@example.org", "country": "PE", "consent": "on"},
    {"full_name": " Ana ", "email": "ana@example.org", "country": "pe", "postcode": ""},
    {"email": "not an address", "consent": "on", "wants_updates": "on"},
    {"full_name": "Ana", "postcode": "x" * 40, "show_publicly": "false"},
    {"full_name": "Bot", "website": "http://spam.example", "consent": "on"},
    {},
]


def _cleaned_both_ways(form_class, data):
    ours, djangos = form_class(data), form_class(data)
    djangos._clean_fields = types.MethodType(forms.Form._clean_fields, djangos)
    ours.is_valid(), djangos.is_valid()
    return ours, djangos


def test_fields_are_cleaned_as_djangos_own_loop_cleans_them():
    cases = [(SignatureForm, data) for data in SIGN_INPUTS]
    cases += [
        (SubscribeForm, {"email": "rosa@example.org"}),
        (SubscribeForm, {"email": "rosa@"}),
        # A disabled field takes Django's path: its initial value, not the data.
        (_DisabledFieldForm, {"colour": "g", "when": "2024-01-05"}),
    ]
    for form_class, data in cases:
        ours, djangos = _cleaned_both_ways(form_class, data)
        assert ours.cleaned_data == djangos.cleaned_data, data
        assert ours.errors.get_json_data() == djangos.errors.get_json_data(), data
    ours, _ = _cleaned_both_ways(_DisabledFieldForm, {"colour": "g"})
    assert ours.cleaned_data["colour"] == "r"


def test_a_validated_sign_form_is_freed_without_the_cycle_collector():
    # A BoundField points back at its form: built while cleaning, they kept
    # each POST's form, fields and widgets until the cycle collector ran.
    gc.disable()
    try:
        for data in (SIGN_INPUTS[0], {**SIGN_INPUTS[1], "consent": "on"}):
            form = SignatureForm(data)
            assert form.is_valid()
            gone = weakref.ref(form)
            del form
            assert gone() is None
    finally:
        gc.enable()
