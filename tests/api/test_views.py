"""The OSDI API, against the OSDI documents' examples
(https://github.com/opensupporter/osdi-docs: petitions.md, record_signature.md,
errors.md)."""

import json

import pytest
from django.test import override_settings
from django.utils import timezone

from api.models import ApiRequest
from core.encryption import email_index
from organising.models import SignatureExport
from petitions import services as petition_services
from petitions.models import Petition, Signature
from tests.petitions.conftest import queued_emails, send_due_emails
from tests.petitions.factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db

HAL = "application/hal+json"

# record_signature.md's example request, with the fields this site reads.
OSDI_EXAMPLE_SIGNATURE = {
    "person": {
        "identifiers": ["foreign_system:1"],
        "family_name": "Edwin",
        "given_name": "Labadie",
        "additional_name": "Marques",
        "origin_system": "OpenSupporter",
        "email_addresses": [
            {
                "address": "test-3@example.com",
                "primary": True,
                "address_type": "Personal",
            }
        ],
        "postal_addresses": [
            {
                "primary": True,
                "address_lines": ["935 Ed Lock"],
                "locality": "New Dudley",
                "region": "MN",
                "postal_code": "17678",
                "country": "US",
                "address_type": "Home",
                "status": "Verified",
            }
        ],
        "phone_numbers": [
            {"primary": True, "number": 19876543210, "number_type": "Mobile"}
        ],
        "gender": "Male",
    },
    "identifiers": ["foreign_system:1"],
    "origin_system": "OpenSupporter",
    "action_date": "2014-03-18T11:02:15Z",
    "comments": "Support our campaign!",
    "referrer_data": {
        "source": "facebook-101016-mainpage",
        "referrer": "jane-doe",
        "website": "facebook.com",
        "url": "https://facebook.com/posts/12345",
    },
    "add_tags": ["volunteer"],
}

HELPER = "/api/v1/petitions/justice/signatures/record_signature_helper"


def post_signature(client, raw, body=OSDI_EXAMPLE_SIGNATURE, path=HELPER):
    return client.post(
        path,
        data=json.dumps(body) if not isinstance(body, str | bytes) else body,
        content_type="application/json",
        headers={"OSDI-API-Token": raw},
    )


def confirm_all():
    for pk in Signature.objects.filter(status="pending").values_list("pk", flat=True):
        petition_services.signature_confirm(signature_id=pk)


@override_settings(SITE_URL="https://standwithperu.example")
def test_entry_point_links_to_petitions(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert response["Content-Type"] == HAL
    data = response.json()
    assert (
        data["_links"]["osdi:petitions"]["href"]
        == "https://standwithperu.example/api/v1/petitions"
    )


@override_settings(SITE_URL="https://standwithperu.example")
def test_petition_has_the_osdi_fields_and_the_confirmed_count(client, petition, sign):
    sign(email="a@example.org")
    sign(email="b@example.org")
    confirm_all()
    sign(email="pending@example.org")
    response = client.get("/api/v1/petitions/justice")
    assert response.status_code == 200
    assert response["Content-Type"] == HAL
    data = response.json()
    assert data["identifiers"] == ["peru_campaign:justice"]
    assert data["title"] == "Justice now"
    assert data["browser_url"] == "https://standwithperu.example/petitions/justice/"
    assert data["total_signatures"] == 2
    assert data["target"] == [{"name": "The authorities of Peru"}]
    assert data["petition_text"] == petition.body
    assert "<strong>full</strong>" in data["description"]
    assert data["created_date"].endswith("Z")
    links = data["_links"]
    base = "https://standwithperu.example/api/v1/petitions/justice"
    assert links["self"]["href"] == base
    assert links["osdi:signatures"]["href"] == f"{base}/signatures"
    assert (
        links["osdi:record_signature_helper"]["href"]
        == f"{base}/record_signature_helper"
    )


def test_drafts_are_not_found(client, db):
    PetitionFactory(slug="secret", state=Petition.State.DRAFT)
    response = client.get("/api/v1/petitions/secret")
    assert response.status_code == 404
    assert response.json()["osdi:error"]["response_code"] == 404
    listing = client.get("/api/v1/petitions").json()
    assert listing["_embedded"]["osdi:petitions"] == []


def test_collection_pages_like_the_osdi_example(client, db):
    for number in range(3):
        PetitionFactory(slug=f"p{number}")
    data = client.get("/api/v1/petitions?per_page=2").json()
    assert data["page"] == 1
    assert data["per_page"] == 2
    assert data["total_pages"] == 2
    assert data["total_records"] == 3
    assert len(data["_embedded"]["osdi:petitions"]) == 2
    assert data["_links"]["next"]["href"].endswith(
        "/api/v1/petitions?page=2&per_page=2"
    )
    assert len(data["_links"]["osdi:petitions"]) == 2
    last = client.get("/api/v1/petitions?page=2&per_page=2").json()
    assert len(last["_embedded"]["osdi:petitions"]) == 1
    assert "next" not in last["_links"]


def test_collection_counts_match_the_detail(client, petition, sign):
    sign(email="a@example.org")
    confirm_all()
    data = client.get("/api/v1/petitions/").json()
    assert data["_embedded"]["osdi:petitions"][0]["total_signatures"] == 1


@pytest.mark.parametrize(
    "query", ["page=x", "per_page=0", "per_page=101", "per_page=-1"]
)
def test_nonsense_paging_is_a_400(client, petition, query):
    response = client.get(f"/api/v1/petitions?{query}")
    assert response.status_code == 400
    assert response.json()["osdi:error"]["resource_status"][0]["error_descriptions"]


def test_page_past_the_end_is_a_404(client, petition):
    assert client.get("/api/v1/petitions?page=9").status_code == 404


# ------------------------------------------------------------------------------
# Tokens
# ------------------------------------------------------------------------------
def test_signatures_need_a_token(client, petition):
    response = client.get("/api/v1/petitions/justice/signatures")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "OSDI-API-Token"


def test_a_wrong_token_is_a_401_even_on_public_reads(client, petition):
    response = client.get(
        "/api/v1/petitions/justice", headers={"OSDI-API-Token": "pcapi_nonsense"}
    )
    assert response.status_code == 401


def test_a_revoked_token_is_refused(client, petition, make_token):
    token, raw = make_token(can_read_signatures=True)
    token.revoked_at = timezone.now()
    token.save()
    response = client.get(
        "/api/v1/petitions/justice/signatures", headers={"OSDI-API-Token": raw}
    )
    assert response.status_code == 401


def test_a_token_of_a_deactivated_owner_is_refused(client, petition, make_token, owner):
    _token, raw = make_token(can_read_signatures=True)
    owner.is_active = False
    owner.save()
    response = client.get(
        "/api/v1/petitions/justice/signatures", headers={"OSDI-API-Token": raw}
    )
    assert response.status_code == 401


def test_a_token_without_the_scope_is_a_403(client, petition, make_token):
    _token, raw = make_token(can_record_signatures=True)
    response = client.get(
        "/api/v1/petitions/justice/signatures", headers={"OSDI-API-Token": raw}
    )
    assert response.status_code == 403
    _token, raw = make_token(can_read_signatures=True)
    assert post_signature(client, raw).status_code == 403
    assert not Signature.objects.exists()


def test_every_use_is_audited_without_personal_data(client, petition, make_token):
    token, raw = make_token(can_record_signatures=True)
    client.get("/api/v1/petitions/justice", headers={"OSDI-API-Token": raw})
    post_signature(client, raw)
    client.get("/api/v1/petitions/justice/signatures", headers={"OSDI-API-Token": raw})
    rows = list(ApiRequest.objects.filter(token=token).order_by("at", "pk"))
    assert [(r.method, r.path, r.status) for r in rows] == [
        ("GET", "/api/v1/petitions/justice", 200),
        ("POST", HELPER, 200),
        ("GET", "/api/v1/petitions/justice/signatures", 403),
    ]
    token.refresh_from_db()
    assert token.last_used_at is not None
    dumped = repr([vars(row) for row in rows])
    assert "test-3@example.com" not in dumped
    assert "Labadie" not in dumped


def test_only_the_hash_of_a_token_is_stored(make_token):
    token, raw = make_token()
    assert raw.startswith("pcapi_")
    assert len(raw) > 40
    assert raw not in repr(vars(token))
    assert token.key_hash != raw


# ------------------------------------------------------------------------------
# Signatures
# ------------------------------------------------------------------------------
def test_signatures_list_confirmed_ones_without_personal_data(
    client, petition, make_token
):
    SignatureFactory(petition=petition, email="pending@example.org")
    SignatureFactory(
        petition=petition,
        full_name="Ana Quispe",
        email="ana@example.org",
        status="confirmed",
        confirmed_at=timezone.now(),
        source="newsletter",
    )
    _token, raw = make_token(can_read_signatures=True, can_read_personal_data=True)
    response = client.get(
        "/api/v1/petitions/justice/signatures", headers={"OSDI-API-Token": raw}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["total_records"] == 1
    [signature] = data["_embedded"]["osdi:signatures"]
    assert signature["identifiers"][0].startswith("peru_campaign:")
    assert signature["person"] == {"postal_addresses": [{"country": "PE"}]}
    assert signature["referrer_data"] == {"source": "newsletter"}
    assert "ana@example.org" not in response.content.decode()
    assert "Ana" not in response.content.decode()
    assert not SignatureExport.objects.exists()


def test_personal_data_needs_the_owners_delivery_list_permission(
    client, petition, make_token, delivery_owner
):
    SignatureFactory(
        petition=petition,
        full_name="Ana María Quispe",
        email="ana@example.org",
        postcode="15001",
        status="confirmed",
        confirmed_at=timezone.now(),
    )
    _token, raw = make_token(
        token_owner=delivery_owner,
        can_read_signatures=True,
        can_read_personal_data=True,
    )
    response = client.get(
        "/api/v1/petitions/justice/signatures", headers={"OSDI-API-Token": raw}
    )
    [signature] = response.json()["_embedded"]["osdi:signatures"]
    assert signature["person"]["given_name"] == "Ana"
    assert signature["person"]["family_name"] == "María Quispe"
    assert signature["person"]["email_addresses"] == [
        {"address": "ana@example.org", "primary": True}
    ]
    assert signature["person"]["postal_addresses"] == [
        {"country": "PE", "postal_code": "15001", "primary": True}
    ]
    assert response["Cache-Control"] == "no-store"
    export = SignatureExport.objects.get()
    assert export.with_emails and export.user == delivery_owner
    assert export.row_count == 1


def test_the_scope_alone_does_not_give_personal_data(client, petition, make_token):
    SignatureFactory(petition=petition, status="confirmed", confirmed_at=timezone.now())
    # The owner lacks the e-mail export permission.
    _token, raw = make_token(can_read_signatures=True, can_read_personal_data=True)
    data = client.get(
        "/api/v1/petitions/justice/signatures", headers={"OSDI-API-Token": raw}
    ).json()
    assert "email_addresses" not in data["_embedded"]["osdi:signatures"][0]["person"]


# ------------------------------------------------------------------------------
# Record Signature Helper
# ------------------------------------------------------------------------------
def test_the_osdi_example_records_a_pending_signature(client, petition, make_token):
    _token, raw = make_token(can_record_signatures=True)
    response = post_signature(client, raw)
    assert response.status_code == 200
    assert response["Content-Type"] == HAL
    data = response.json()
    assert data["referrer_data"] == {"source": "facebook-101016-mainpage"}
    assert data["_links"]["osdi:petition"]["href"].endswith("/api/v1/petitions/justice")
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert signature.full_name == "Labadie Edwin"
    assert signature.email == "test-3@example.com"
    assert signature.country == "US"
    assert signature.postcode == "17678"
    assert signature.source == "facebook-101016-mainpage"
    assert signature.ip_hash == ""
    assert queued_emails() == [(signature.pk, "confirm")]
    # Counted only once the signer confirms.
    assert petition_services.petition_signature_count(petition) == 0
    confirm_all()
    assert petition_services.petition_signature_count(petition) == 1


def test_the_osdi_path_without_signatures_works_too(client, petition, make_token):
    _token, raw = make_token(can_record_signatures=True)
    response = post_signature(
        client, raw, path="/api/v1/petitions/justice/record_signature_helper"
    )
    assert response.status_code == 200
    assert Signature.objects.count() == 1


def test_the_signers_language_is_used_for_the_email(client, petition, make_token):
    _token, raw = make_token(can_record_signatures=True)
    body = json.loads(json.dumps(OSDI_EXAMPLE_SIGNATURE))
    body["person"]["languages_spoken"] = ["qu", "es"]
    post_signature(client, raw, body)
    assert Signature.objects.get().consent_language == "es"
    body["person"]["languages_spoken"] = 5
    body["person"]["email_addresses"][0]["address"] = "other@example.org"
    assert post_signature(client, raw, body).status_code == 200
    assert (
        Signature.objects.get(
            email_normalised=email_index("other@example.org")
        ).consent_language
        == "en"
    )


def test_the_partner_name_is_the_source_without_referrer_data(
    client, petition, make_token
):
    _token, raw = make_token(can_record_signatures=True)
    body = {k: v for k, v in OSDI_EXAMPLE_SIGNATURE.items() if k != "referrer_data"}
    post_signature(client, raw, body)
    assert Signature.objects.get().source == "amnesty-peru"


def test_signing_again_gives_the_same_answer(client, petition, make_token):
    _token, raw = make_token(can_record_signatures=True)
    first = post_signature(client, raw)
    send_due_emails()  # the outbox worker runs between the requests
    second = post_signature(client, raw)
    send_due_emails()
    confirm_all()
    third = post_signature(client, raw)
    strip = lambda response: {  # noqa: E731
        k: v for k, v in response.json().items() if not k.endswith("_date")
    }
    assert first.status_code == second.status_code == third.status_code == 200
    assert strip(first) == strip(second) == strip(third)
    assert Signature.objects.count() == 1
    assert [kind for _id, kind in queued_emails()] == [
        "confirm",
        "confirm",
        "already_signed",
    ]


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        b"\xff\xfe",
        "[]",
        "null",
        {"person": "Ana"},
        {"person": {"given_name": 5}},
        {"person": {"email_addresses": "ana@example.org"}},
        {"person": {"email_addresses": [{"address": ["x"]}]}},
        {**OSDI_EXAMPLE_SIGNATURE, "referrer_data": "x"},
        {"person": {"postal_addresses": [{"country": 51}]}},
        {"person": {"email_addresses": [5]}},
        "[" * 100_000,
        {
            "person": {
                "given_name": "Ana\x00",
                "family_name": "Quispe",
                "email_addresses": [{"address": "ana\x00@example.org"}],
                "postal_addresses": [{"country": "PE\x00", "postal_code": "1\x00"}],
            },
            "referrer_data": {"source": "\x00"},
        },
    ],
)
def test_malformed_bodies_are_a_400(client, petition, make_token, body):
    _token, raw = make_token(can_record_signatures=True)
    response = post_signature(client, raw, body)
    assert response.status_code == 400
    assert response.json()["osdi:error"]["request_type"] == "atomic"
    assert not Signature.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_huge_body_is_refused(client, petition, make_token):
    _token, raw = make_token(can_record_signatures=True)
    body = {**OSDI_EXAMPLE_SIGNATURE, "comments": "x" * 2000}
    assert post_signature(client, raw, body).status_code == 413


def test_invalid_signers_get_the_forms_messages(client, petition, make_token):
    _token, raw = make_token(can_record_signatures=True)
    body = {
        "person": {
            "given_name": "",
            "email_addresses": [{"address": "not-an-address"}],
            "postal_addresses": [{"country": "XX"}],
        }
    }
    response = post_signature(client, raw, body)
    assert response.status_code == 400
    descriptions = response.json()["osdi:error"]["resource_status"][0][
        "error_descriptions"
    ]
    properties = {p for item in descriptions for p in item["properties"]}
    assert "person.email_addresses[0].address" in properties
    assert "person.postal_addresses[0].country" in properties
    assert "person.given_name" in properties
    assert not Signature.objects.exists()


def test_a_closed_petition_refuses_signatures(client, make_token, db):
    PetitionFactory(slug="justice", state=Petition.State.CLOSED)
    _token, raw = make_token(can_record_signatures=True)
    response = post_signature(client, raw)
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_drafts_cannot_be_signed(client, make_token, db):
    PetitionFactory(slug="justice", state=Petition.State.DRAFT)
    _token, raw = make_token(can_record_signatures=True)
    assert post_signature(client, raw).status_code == 404


def test_signatures_are_rate_limited_per_token(
    client, petition, make_token, monkeypatch
):
    from api import services
    from petitions.ratelimit import Limit

    monkeypatch.setattr(services, "API_SIGN_LIMITS", [Limit("burst", 2, 60)])
    _token, raw = make_token(can_record_signatures=True)
    for number in range(2):
        body = json.loads(json.dumps(OSDI_EXAMPLE_SIGNATURE))
        body["person"]["email_addresses"][0]["address"] = f"s{number}@example.org"
        assert post_signature(client, raw, body).status_code == 200
    response = post_signature(client, raw)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert Signature.objects.count() == 2
    # Another token has its own allowance.
    _other, other_raw = make_token(can_record_signatures=True)
    assert post_signature(client, other_raw).status_code == 200


def test_get_on_the_helper_is_a_405(client, petition, make_token):
    _token, raw = make_token(can_record_signatures=True)
    response = client.get(HELPER, headers={"OSDI-API-Token": raw})
    assert response.status_code == 405


def test_the_json_contract_is_unchanged(client, petition):
    data = client.get("/petitions/justice.json").json()
    # Every key partners read keeps its name; new keys (paper_signature_count)
    # may only be added.
    assert set(data) >= {
        "slug",
        "title",
        "state",
        "signature_count",
        "goal",
        "signatures_by_country",
        "updated_at",
    }
