"""The public forms' own copies of their fields (petitions.forms.PublicForm)."""

import copy

from django import forms

from newsletters.forms import SubscribeForm
from petitions.forms import PublicForm, SignatureForm


class _ChoiceAndCustomForm(PublicForm):
    colour = forms.ChoiceField(choices=[("r", "Red"), ("g", "Green")])
    when = forms.DateField(widget=forms.SelectDateWidget)


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
