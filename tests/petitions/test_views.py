import datetime
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from django.test.utils import override_script_prefix
from django.urls import reverse
from django.utils import timezone

from petitions import services, tokens
from petitions.models import Petition, Signature
from petitions.outbox import signature_emails_send

from .conftest import queued_emails
from .factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db

VALID = {
    "full_name": "Ana Quispe",
    "email": "ana@example.org",
    "country": "PE",
    "postcode": "",
    "consent": "on",
}


def sign_url(petition):
    return reverse("petitions:sign", kwargs={"slug": petition.slug})


def test_petition_page_shows_the_ask_count_progress_and_form(client, petition):
    SignatureFactory.create_batch(2, petition=petition)
    for signature in Signature.objects.all():
        services.signature_confirm(signature_id=signature.pk)
    response = client.get(petition.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert petition.title in html and petition.addressed_to in html
    assert "<strong>full</strong>" in html  # Markdown rendered
    assert re.search(r'<strong class="count-number">2</strong>\s*signatures', html)
    assert '<progress class="signature-progress" max="3" value="2"' in html
    assert 'name="full_name"' in html and 'name="consent"' in html
    assert html.count("<option") >= 249
    # Unticked by default: people fear reprisals.
    assert not re.search(r'name="(show_publicly|wants_updates)"[^>]*checked', html)
    # No signer's name unless they chose it.
    assert "Signer Number" not in html


def test_petition_page_lists_only_signers_who_chose_to_be_shown(client, petition):
    shown = SignatureFactory(
        petition=petition, full_name="Rosa Mamani", show_publicly=True
    )
    hidden = SignatureFactory(petition=petition, full_name="Luis Hidden")
    for signature in (shown, hidden):
        services.signature_confirm(signature_id=signature.pk)
    html = client.get(petition.get_absolute_url()).content.decode()
    assert "Rosa, Peru" in html
    assert "Mamani" not in html and "Luis" not in html


def test_petition_page_uses_few_queries_and_no_count_star(
    client, petition, django_assert_max_num_queries
):
    SignatureFactory.create_batch(5, petition=petition)
    # The petition with its count and its pause, the public signers, and the
    # site banner (which every public page reads once per rendering).
    with django_assert_max_num_queries(3) as queries:
        client.get(petition.get_absolute_url())  # rendered: nothing cached
    sql = [query["sql"] for query in queries.captured_queries]
    assert not any("COUNT(" in query.upper() for query in sql)
    # Signatures are read only for the few public signers (a partial index).
    reading_signatures = [q for q in sql if '"petitions_signature"' in q]
    assert all("show_publicly" in q and "LIMIT 5" in q for q in reading_signatures)


def test_page_shows_a_fresh_count_and_a_form_that_needs_no_token(petition):
    from django.test import Client

    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.get(petition.get_absolute_url())
    signature = SignatureFactory(petition=petition)
    services.signature_confirm(signature_id=signature.pk)
    html = second.get(petition.get_absolute_url()).content.decode()
    assert re.search(r'<strong class="count-number">1</strong>\s*signature<', html)
    assert "csrfmiddlewaretoken" not in html
    response = second.post(
        f"/petitions/{petition.slug}/sign/",
        VALID,
        headers={"sec_fetch_site": "same-origin"},
    )
    assert response.status_code == 303


def test_cross_site_sign_post_is_refused(petition):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        sign_url(petition), VALID, headers={"sec_fetch_site": "cross-site"}
    )
    assert response.status_code == 403
    assert "sent from another website" in response.content.decode()
    assert not Signature.objects.exists()


def test_editing_the_petition_shows_at_once(client, petition):
    client.get(petition.get_absolute_url())
    petition.title = "A new title"
    petition.save()
    assert "A new title" in client.get(petition.get_absolute_url()).content.decode()


def test_draft_petition_is_not_public(client):
    draft = PetitionFactory(state=Petition.State.DRAFT)
    assert client.get(draft.get_absolute_url()).status_code == 404
    # Signing a draft answers like an unknown slug: its address stays secret.
    response = client.post(sign_url(draft), VALID)
    assert response.status_code == 404
    assert not Signature.objects.exists()


def test_closed_petition_shows_a_message_instead_of_the_form(client):
    closed = PetitionFactory(state=Petition.State.CLOSED)
    html = client.get(closed.get_absolute_url()).content.decode()
    assert "has closed" in html and 'name="full_name"' not in html
    response = client.post(sign_url(closed), VALID)
    assert response.status_code == 403
    assert not Signature.objects.exists()


@pytest.mark.parametrize(
    "window, message",
    [
        ({"opens_at": datetime.timedelta(days=1)}, "not open for signatures yet"),
        ({"closes_at": -datetime.timedelta(minutes=1)}, "has closed"),
    ],
)
@pytest.mark.parametrize("form_valid", [True, False])
def test_signing_outside_the_petitions_dates_is_refused(
    client, window, message, form_valid
):
    now = timezone.now()
    petition = PetitionFactory(**{name: now + delta for name, delta in window.items()})
    data = VALID if form_valid else {**VALID, "email": "not an address"}
    response = client.post(sign_url(petition), data)
    assert response.status_code == 403
    assert message in response.content.decode()
    assert not Signature.objects.exists()


def test_signing_an_unknown_petition_is_404(client):
    response = client.post("/petitions/no-such-petition/sign/", VALID)
    assert response.status_code == 404
    assert not Signature.objects.exists()


def test_signing_redirects_to_check_your_inbox(client, petition):
    response = client.post(sign_url(petition), VALID)
    assert response.status_code == 303
    assert response["Location"] == f"/petitions/{petition.slug}/check-your-inbox/"
    page = client.get(response["Location"])
    assert "Check your inbox" in page.content.decode()
    assert "ana@example.org" not in page.content.decode()
    assert Signature.objects.get().status == Signature.Status.PENDING


def test_each_sign_address_redirects_to_the_check_your_inbox_page_beside_it(
    client, petition
):
    # The view remembers the redirect per sign address: another language or
    # another script prefix (the site mounted below a path) must still get
    # its own, in whatever order they come.
    sign, inbox = sign_url(petition), f"petitions/{petition.slug}/check-your-inbox/"
    for script_name, language in [
        ("", ""),
        ("", "/es"),
        ("/campaign", ""),
        ("/campaign", "/es"),
        ("", ""),
    ]:
        with override_script_prefix(f"{script_name}/"):
            response = client.post(f"{language}{sign}", VALID, SCRIPT_NAME=script_name)
        assert response.status_code == 303
        assert response["Location"] == f"{script_name}{language}/{inbox}"


def test_signing_again_looks_exactly_the_same(client, petition):
    first = client.post(sign_url(petition), VALID)
    second = client.post(sign_url(petition), {**VALID, "email": "ANA@example.org"})
    assert (first.status_code, first["Location"]) == (
        second.status_code,
        second["Location"],
    )
    assert Signature.objects.count() == 1


def test_bad_input_re_renders_the_form_with_messages(client, petition):
    response = client.post(
        sign_url(petition),
        {"full_name": "=cmd", "email": "nope", "country": "ZZ", "postcode": "x"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "cannot start with =" in html
    assert "e-mail address like" in html
    assert "Choose your country" in html
    assert "Tick this box" in html
    assert 'aria-invalid="true"' in html
    assert not Signature.objects.exists()


def test_bad_details_with_consent_are_all_explained_at_once(client, petition):
    # The form is otherwise fine: the rules are signature_create's, and each
    # of its messages lands beside its field.
    response = client.post(
        sign_url(petition),
        {**VALID, "full_name": "=cmd", "email": "nope", "country": "ZZ"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "cannot start with =" in html
    assert "e-mail address like" in html
    assert "Choose your country" in html
    assert html.count('aria-invalid="true"') >= 3
    assert not Signature.objects.exists()


def test_bad_uk_postcode_is_explained(client, petition):
    response = client.post(
        sign_url(petition), {**VALID, "country": "GB", "postcode": "123"}
    )
    assert "UK postcode like SW1A 1AA" in response.content.decode()
    assert not Signature.objects.exists()


def test_honeypot_pretends_success_but_stores_nothing(client, petition):
    response = client.post(sign_url(petition), {**VALID, "website": "http://spam"})
    assert response.status_code == 303
    assert not Signature.objects.exists()


def test_rate_limit_answers_429_with_an_explanation(client, petition, settings):
    settings.SIGN_RATE_BURST = 2
    for index in range(2):
        response = client.post(
            sign_url(petition), {**VALID, "email": f"{index}@example.org"}
        )
        assert response.status_code == 303
    response = client.post(sign_url(petition), {**VALID, "email": "third@example.org"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "try again in" in response.content.decode()
    assert Signature.objects.count() == 2


def test_a_refused_signature_queues_no_email_and_a_valid_one_counts(
    client, petition, settings
):
    settings.SIGN_RATE_BURST = 1
    client.post(sign_url(petition), VALID)
    refused = client.post(sign_url(petition), {**VALID, "email": "b@example.org"})
    assert refused.status_code == 429
    assert [kind for _id, kind in queued_emails()] == ["confirm"]
    assert list(Signature.objects.values_list("email", flat=True)) == [VALID["email"]]


def test_signing_is_one_statement(client, petition, django_assert_num_queries):
    # The petition's lookup, the rate limit, the row and its e-mail job travel
    # together: no BEGIN/SAVEPOINT/COMMIT round trips around them.
    with django_assert_num_queries(1):
        response = client.post(sign_url(petition), VALID)
    assert response.status_code == 303
    signature = Signature.objects.get()
    assert queued_emails() == [(signature.pk, "confirm")]


def test_a_repeat_signature_costs_and_answers_the_same_as_a_new_one(
    client, petition, settings, django_assert_num_queries
):
    # Timing or the answer must not tell whoever types an address whether it
    # has signed: a repeat (pending, then confirmed) takes the new one's path.
    settings.SIGN_RATE_BURST = 100

    def answer(response):
        headers = {k: v for k, v in response.headers.items() if k != "Set-Cookie"}
        return response.status_code, headers, response.content

    with django_assert_num_queries(1):
        new = client.post(sign_url(petition), VALID)
    with django_assert_num_queries(1):
        pending = client.post(sign_url(petition), VALID)
    services.signature_confirm(signature_id=Signature.objects.get().pk)
    with django_assert_num_queries(1):
        confirmed = client.post(sign_url(petition), VALID)
    assert new.status_code == 303
    assert answer(pending) == answer(new)
    assert answer(confirmed) == answer(new)
    # And the repeats did their work in that one statement.
    signature = Signature.objects.get()
    assert signature.repeat_emails_sent == 2
    assert signature.email_kind == Signature.Email.ALREADY_SIGNED
    assert queued_emails() == [(signature.pk, "already_signed")]


def test_rate_limit_ignores_forwarded_for_unless_proxies_are_trusted(
    client, petition, settings
):
    settings.SIGN_RATE_BURST = 1
    client.post(sign_url(petition), VALID, HTTP_X_FORWARDED_FOR="10.0.0.1")
    spoofed = client.post(
        sign_url(petition),
        {**VALID, "email": "b@example.org"},
        HTTP_X_FORWARDED_FOR="10.0.0.2",
    )
    assert spoofed.status_code == 429
    settings.TRUSTED_PROXY_COUNT = 1
    behind_proxy = client.post(
        sign_url(petition),
        {**VALID, "email": "c@example.org"},
        HTTP_X_FORWARDED_FOR="10.0.0.3",
    )
    assert behind_proxy.status_code == 303


def test_ip_is_stored_only_as_a_keyed_hash(client, petition):
    client.post(sign_url(petition), VALID, REMOTE_ADDR="203.0.113.9")
    signature = Signature.objects.get()
    assert signature.ip_hash and "203.0.113.9" not in signature.ip_hash
    assert len(signature.ip_hash) == 32


def _links_in(message):
    return {
        urlparse(url).path: parse_qs(urlparse(url).query)["t"][0]
        for url in re.findall(r"http://\S+\?t=\S+", message.body)
    }


def test_confirmation_email_link_confirms_only_on_post(client, petition):
    client.post(sign_url(petition), {**VALID, "wants_updates": "on"})
    signature = Signature.objects.get()
    signature_emails_send()
    message = mail.outbox[0]
    assert message.to == ["ana@example.org"]
    assert message.alternatives[0][1] == "text/html"
    links = _links_in(message)
    assert set(links) == {
        "/petitions/confirm/",
        "/petitions/withdraw/",
        "/petitions/unsubscribe/",
        # The signer's own page (supporters' rights), in every e-mail.
        "/your-data/page/",
    }
    token = links["/petitions/confirm/"]
    # A mail scanner opening the link changes nothing.
    page = client.get(f"/petitions/confirm/?t={token}")
    assert page.status_code == 200 and "Confirm my signature" in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0")
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING
    # The person presses the button.
    response = client.post("/petitions/confirm/", {"t": token})
    assert response.status_code == 303
    thanks = client.get(response["Location"])
    html = thanks.content.decode()
    assert "You are supporter number 1" in html
    # Share links are plain links: no share script from anyone (the only
    # scripts are the site's own, loaded from its files).
    own_script = re.compile(r'<script src="/static/js/[\w-]+\.js" defer></script>')
    assert "wa.me" in html and own_script.sub("", html).count("<script") == 0
    assert 'href="/reports/"' in html and 'href="/news/"' in html
    # Using the link again is harmless.
    again = client.post("/petitions/confirm/", {"t": token})
    assert again.status_code == 303
    assert services.petition_signature_count(petition) == 1


def test_withdraw_link_removes_the_signature(client, petition):
    client.post(sign_url(petition), VALID)
    signature = Signature.objects.get()
    services.signature_confirm(signature_id=signature.pk)
    token = tokens.make_token(signature.pk, "withdraw")
    page = client.get(f"/petitions/withdraw/?t={token}")
    assert "Withdraw my signature" in page.content.decode()
    response = client.post("/petitions/withdraw/", {"t": token})
    assert "has been withdrawn" in response.content.decode()
    assert services.petition_signature_count(petition) == 0
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN and signature.email == ""
    again = client.get(f"/petitions/withdraw/?t={token}")
    assert "already been withdrawn" in again.content.decode()


def test_unsubscribe_link(client, petition):
    client.post(sign_url(petition), {**VALID, "wants_updates": "on"})
    signature = Signature.objects.get()
    token = tokens.make_token(signature.pk, "unsubscribe")
    assert client.get(f"/petitions/unsubscribe/?t={token}").status_code == 200
    client.post("/petitions/unsubscribe/", {"t": token})
    signature.refresh_from_db()
    assert not signature.wants_updates


@pytest.mark.parametrize("path", ["confirm", "withdraw", "unsubscribe"])
def test_tampered_or_wrong_purpose_tokens_are_refused_with_400(client, petition, path):
    signature = SignatureFactory(petition=petition)
    other_purpose = tokens.make_token(signature.pk, "thanks")
    for token in [
        "",
        "garbage",
        other_purpose,
        tokens.make_token(signature.pk, path) + "x",
    ]:
        assert client.get(f"/petitions/{path}/?t={token}").status_code == 400
        assert client.post(f"/petitions/{path}/", {"t": token}).status_code == 400
    signature.refresh_from_db()
    assert signature.status == Signature.Status.PENDING


def test_expired_confirmation_link_explains_what_to_do(client, petition, settings):
    signature = SignatureFactory(petition=petition)
    token = tokens.make_token(signature.pk, "confirm")
    settings.SIGNATURE_CONFIRM_MAX_AGE_DAYS = -1
    response = client.post("/petitions/confirm/", {"t": token})
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_petition_json_has_counts_and_no_personal_data(client, petition):
    signature = SignatureFactory(
        petition=petition,
        full_name="Secret Person",
        email="secret@example.org",
        country="GB",
    )
    services.signature_confirm(signature_id=signature.pk)
    response = client.get(f"/petitions/{petition.slug}.json")
    data = response.json()
    assert set(data) == {
        "slug",
        "title",
        "state",
        "signature_count",
        "paper_signature_count",
        "goal",
        "signatures_by_country",
        "signatures_elsewhere",
        "updated_at",
    }
    # Issue 22, item 8: one signer in a country is not named, as on the
    # countries page, and the time says nothing finer than the minute.
    assert data["signature_count"] == 1 and data["signatures_by_country"] == {}
    assert data["signatures_elsewhere"] == 1
    assert datetime.datetime.fromisoformat(data["updated_at"]).second == 0
    assert datetime.datetime.fromisoformat(data["updated_at"]).microsecond == 0
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"].startswith("public, max-age=0, s-maxage=1")
    assert "secret" not in response.content.decode().lower()


def test_petition_json_names_the_countries_the_countries_page_names(client, petition):
    for number, country in enumerate(["PE"] * 3 + ["GB"] * 2 + [""]):
        signature = SignatureFactory(
            petition=petition, email=f"s{number}@example.org", country=country
        )
        services.signature_confirm(signature_id=signature.pk)
    data = client.get(f"/petitions/{petition.slug}.json").json()
    assert data["signatures_by_country"] == {"PE": 3}
    assert data["signatures_elsewhere"] == 3
    page = client.get(f"/petitions/{petition.slug}/countries/").content.decode()
    assert "<td>Peru</td>" in page and "<td>United Kingdom</td>" not in page
    assert ">3<" in page


def test_json_for_unknown_or_draft_petition_is_404(client):
    draft = PetitionFactory(state=Petition.State.DRAFT)
    assert client.get(f"/petitions/{draft.slug}.json").status_code == 404
    assert client.get("/petitions/nope.json").status_code == 404


def test_get_on_sign_url_is_not_allowed(client, petition):
    assert client.get(sign_url(petition)).status_code == 405


def test_home_page_shows_the_petition_and_its_form(client, campaign_content):
    html = client.get("/").content.decode()
    assert "Truth, justice and redress" in html
    assert 'action="/petitions/justice-for-peru/sign/"' in html
    assert queued_emails() == []


def test_an_invalidated_signature_gets_no_confirm_button(client, petition):
    signature = SignatureFactory(petition=petition)
    services.signatures_invalidate(signatures=Signature.objects.filter(pk=signature.pk))
    token = tokens.make_token(signature.pk, "confirm")
    response = client.get(f"/petitions/confirm/?t={token}")
    assert response.status_code == 410
    assert "Confirm my signature" not in response.content.decode()


def test_the_sign_redirect_carries_no_policy_and_the_page_it_leads_to_does(
    client, petition
):
    # A browser applies the policy of the page it lands on, never a redirect's.
    redirect = client.post(
        sign_url(petition), VALID, headers={"sec_fetch_site": "same-origin"}
    )
    assert redirect.status_code == 303
    assert "Content-Security-Policy" not in redirect
    landed = client.get(redirect["Location"])
    assert landed.status_code == 200
    assert "default-src 'none'" in landed["Content-Security-Policy"]
