import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from core import email_addresses
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
    assert (
        email_addresses.normalise_email(email_addresses.clean_email(email))
        == normalised
    )


@pytest.mark.parametrize(
    "email", ["", "not-an-address", "a@b", "a@@example.org", "x" * 250 + "@ex.org"]
)
def test_bad_emails_are_refused(email):
    with pytest.raises(ValidationError):
        email_addresses.clean_email(email)


def test_email_keeps_the_local_part_and_lowers_the_domain():
    assert email_addresses.clean_email("  Ana.Q@Example.ORG ") == "Ana.Q@example.org"


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
        email = email_addresses.clean_email(raw)
    except ValidationError as error:
        assert error.messages
    else:
        assert len(email) <= 254 and "@" in email
        once = email_addresses.normalise_email(email)
        assert email_addresses.normalise_email(once) == once


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


@pytest.mark.parametrize(
    "name",
    [
        "evil.de Quispe",
        "Ana evil.de",
        "x.co",
        "X.CO",
        "\uff45\uff56\uff49\uff4c\uff0e\uff43\uff4f\uff4d",  # full-width evil.com
        "Ana \uff58\uff0e\uff43\uff4f",  # full-width x.co
        "evil\u3002com",  # ideographic full stop
        "evil\uff61com",  # half-width ideographic full stop
        "my-site.example",
        "shop.pills.net",
        "Rosa пример.рф",
        "Rosa evil.xn--p1ai",
        "\uff57\uff57\uff57.evil",  # full-width www.
        "Ana hxxp://x",
    ],
)
def test_domain_like_words_are_refused_however_written(name):
    with pytest.raises(ValidationError) as error:
        validators.clean_full_name(name)
    assert error.value.code == "link"
    assert "without web addresses" in error.value.messages[0]


@pytest.mark.parametrize(
    "name",
    [
        "Ma. Quispe",
        "J. R. R. Tolkien",
        "J.R.R. Tolkien",
        "Dr. Ana",
        "Sra. Rosa Mamani",
        "O'Brien",
        "María-José Condori",
        "Ch'aska Huamán",
        "Q'orianka Kilcher",
        "K'usi T'ika Quispe",
        "Wayra Ch'uqi",
        "Ana Quispe Jr.",
        "Nguyễn Thị Minh Khai",
        "李小龍",
        "St. John",
    ],
)
def test_real_names_with_dots_and_apostrophes_are_kept(name):
    assert validators.clean_full_name(name) == name


_letters = st.characters(categories=["Lu", "Ll"], max_codepoint=0x024F)
_word = st.text(_letters, min_size=1, max_size=12)
# Words as people write them in names: plain, with an apostrophe (Quechua,
# Aymara, Irish), hyphenated, or abbreviated with a full stop.
_name_word = st.one_of(
    _word,
    st.builds(lambda a, b: f"{a}'{b}", _word, _word),
    st.builds(lambda a, b: f"{a}-{b}", _word, _word),
    st.builds(lambda a: f"{a[:3]}.", _word),
)


@given(words=st.lists(_name_word, min_size=1, max_size=5))
def test_no_name_made_of_name_words_is_taken_for_a_link(words):
    name = " ".join(words)
    assert not validators.looks_like_a_link(name)


_label = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"), min_size=1)
_tld = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=2, max_size=6)


def _full_width(text):
    return "".join(
        chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text
    )


@given(
    label=_label,
    tld=_tld,
    before=st.lists(_word, max_size=2),
    full_width=st.booleans(),
)
def test_any_domain_in_a_name_is_refused(label, tld, before, full_width):
    domain = f"{label}.{tld}"
    if full_width:
        domain = _full_width(domain)
    assert validators.looks_like_a_link(" ".join([*before, domain]))
