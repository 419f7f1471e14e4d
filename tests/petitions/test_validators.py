import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from petitions import validators


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Ana   María  Quispe ", "Ana María Quispe"),
        ("Ana Mari\u0301a", "Ana María"),  # combining accent composed (NFC)
        ("李小龍", "李小龍"),
        ("O'Brien-Smith", "O'Brien-Smith"),
        ("J.R.R. Tolkien", "J.R.R. Tolkien"),
        ("x" * 100, "x" * 100),
    ],
)
def test_names_are_trimmed_and_normalised(raw, clean):
    assert validators.clean_full_name(raw) == clean


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "required"),
        ("   ", "required"),
        ("x" * 101, "max_length"),
        ("Ana\x00Quispe", "control"),
        ("Ana\u202eepsiuQ", "control"),
        ("Visit http://spam.example", "link"),
        ("www.cheap-pills.example", "link"),
        ("buy at pills.com now", "link"),
        ("=HYPERLINK(1)", "formula"),
        ("+51 999", "formula"),
        ("-Ana", "formula"),
        ("@ana", "formula"),
    ],
)
def test_bad_names_are_refused_with_a_reason(raw, code):
    with pytest.raises(ValidationError) as error:
        validators.clean_full_name(raw)
    assert error.value.code == code
    assert error.value.messages[0]


@pytest.mark.parametrize(
    ("email", "normalised"),
    [
        ("Ana.Quispe+peru@GMail.com", "anaquispe@gmail.com"),
        ("a.n.a@googlemail.com", "ana@gmail.com"),
        ("ana+x@outlook.com", "ana@outlook.com"),
        ("Ana.Q@outlook.com", "ana.q@outlook.com"),
        ("ana+tag@example.org", "ana+tag@example.org"),
        ("ANA@Example.ORG", "ana@example.org"),
    ],
)
def test_email_normalisation_folds_provider_aliases(email, normalised):
    assert validators.normalise_email(validators.clean_email(email)) == normalised


@pytest.mark.parametrize(
    "email", ["", "not-an-address", "a@b", "a@@example.org", "x" * 250 + "@ex.org"]
)
def test_bad_emails_are_refused(email):
    with pytest.raises(ValidationError):
        validators.clean_email(email)


def test_email_keeps_the_local_part_and_lowers_the_domain():
    assert validators.clean_email("  Ana.Q@Example.ORG ") == "Ana.Q@example.org"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("sw1a1aa", "SW1A 1AA"), ("EC1A 1BB", "EC1A 1BB"), ("m1 1ae", "M1 1AE")],
)
def test_uk_postcodes_are_checked_and_formatted(raw, clean):
    assert validators.clean_postcode(raw, "GB") == clean


@pytest.mark.parametrize("raw", ["12345", "SW1A", "ABC 123 XYZ"])
def test_a_malformed_uk_postcode_is_refused(raw):
    with pytest.raises(ValidationError) as error:
        validators.clean_postcode(raw, "GB")
    assert "UK postcode" in error.value.messages[0]


def test_other_countries_accept_local_postcodes_and_empty():
    assert validators.clean_postcode("15001", "PE") == "15001"
    assert validators.clean_postcode("", "GB") == ""
    with pytest.raises(ValidationError):
        validators.clean_postcode("<script>", "PE")


@given(st.text(max_size=300))
def test_any_name_is_either_clean_or_refused_with_a_message(raw):
    try:
        name = validators.clean_full_name(raw)
    except ValidationError as error:
        assert error.messages
    else:
        assert 1 <= len(name) <= 100
        assert name == name.strip()
        assert not name.startswith(("=", "+", "-", "@"))


@given(st.text(max_size=300))
def test_any_email_is_either_clean_or_refused(raw):
    try:
        email = validators.clean_email(raw)
    except ValidationError as error:
        assert error.messages
    else:
        assert len(email) <= 254 and "@" in email
        once = validators.normalise_email(email)
        assert validators.normalise_email(once) == once


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("newsletter-july", "newsletter-july"),
        ("ＰＡＲＴＮＥＲ", "partner"),
        ("a b/c", "a-b-c"),
        ("", ""),
        ("x" * 100, "x" * 64),
    ],
)
def test_a_source_label_is_folded_never_refused(raw, cleaned):
    assert validators.clean_source(raw) == cleaned
