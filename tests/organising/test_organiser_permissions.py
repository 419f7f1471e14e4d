"""Who may see the dashboard and take which export: the matrix, request by request."""

import pytest
from django.contrib.auth.models import Group, Permission

from organising import exports
from tests.petitions.factories import (
    ConfirmedSignatureFactory,
    PetitionFactory,
    staff_user,
)

from .factories import organiser

pytestmark = pytest.mark.django_db

EXPORT_PERMISSIONS = {
    "view_dashboard",
    "export_counts",
    "export_delivery_list",
    "export_emails",
}


@pytest.fixture
def petition():
    petition = PetitionFactory(slug="justice")
    ConfirmedSignatureFactory(petition=petition, email="ana@example.org")
    return petition


DASHBOARD = "/admin/petitions/petition/dashboard/justice/"
BY_DAY = "/admin/petitions/petition/dashboard/justice/by-day.csv"
BY_COUNTRY = "/admin/petitions/petition/dashboard/justice/by-country.csv"
BY_SOURCE = "/admin/petitions/petition/dashboard/justice/by-source.csv"
DELIVERY = "/admin/petitions/petition/dashboard/justice/delivery.csv"
DELIVERY_EMAILS = DELIVERY + "?emails=1"
EVERY_PAGE = [DASHBOARD, BY_DAY, BY_COUNTRY, BY_SOURCE, DELIVERY, DELIVERY_EMAILS]


def _request(client, url):
    """GET the dashboard; POST a download (its form's fields after the `?`)."""
    if url == DASHBOARD:
        return client.get(url)
    path, _, query = url.partition("?")
    return client.post(path, {"emails": "1"} if query else {})


def _status(client, url):
    response = _request(client, url)
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


def test_organisers_group_has_exactly_the_dashboard_and_export_permissions():
    group = Group.objects.get(name="Organisers")
    assert set(
        group.permissions.values_list("content_type__app_label", "codename")
    ) == {
        ("organising", "view_dashboard"),
        ("organising", "export_counts"),
        ("organising", "export_delivery_list"),
        ("organising", "view_signatureexport"),
        ("petitions", "view_petition"),
        ("organising", "add_paperbatch"),
        ("organising", "change_paperbatch"),
        ("organising", "delete_paperbatch"),
        ("organising", "view_paperbatch"),
        ("organising", "view_paperbatchchange"),
    }


def test_organisers_edit_nothing_but_paper_batches_nor_read_signatures_or_emails():
    codenames = set(
        Group.objects.get(name="Organisers").permissions.values_list(
            "codename", flat=True
        )
    )
    assert {c for c in codenames if c.startswith(("add_", "change_", "delete_"))} == {
        "add_paperbatch",
        "change_paperbatch",
        "delete_paperbatch",
    }
    # The signature admin shows e-mail addresses.
    assert "view_signature" not in codenames
    assert "export_emails" not in codenames


def test_organisers_have_no_permission_on_newsletters_or_reports():
    user = organiser()
    assert not [
        permission
        for permission in user.get_all_permissions()
        if permission.startswith(("newsletters.", "reports."))
    ]


def test_no_group_but_organisers_may_see_the_dashboard_or_export():
    # Holds for the Editors group too, once the newsletters app creates it.
    holders = set(
        Group.objects.filter(
            permissions__content_type__app_label="organising",
            permissions__codename__in=EXPORT_PERMISSIONS,
        ).values_list("name", flat=True)
    )
    assert holders == {"Organisers"}


@pytest.mark.parametrize("url", EVERY_PAGE)
def test_anonymous_visitors_are_sent_to_the_admin_login(client, petition, url):
    response = _request(client, url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", EVERY_PAGE)
def test_non_staff_users_are_sent_to_the_admin_login_even_with_permissions(
    client, petition, url
):
    user = staff_user(
        "member@example.org",
        groups=["Organisers"],
        permissions=["organising.export_emails"],
        is_staff=False,
    )
    client.force_login(user)
    response = _request(client, url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", EVERY_PAGE)
def test_staff_without_the_permissions_are_refused(client, petition, url):
    client.force_login(staff_user("staff@example.org"))
    assert _status(client, url) == 403


@pytest.mark.parametrize("url", EVERY_PAGE)
def test_editors_may_not_see_the_dashboard_nor_export(client, petition, url):
    # The newsletters app creates the Editors group; get_or_create stands in
    # for it here and is the real group once that app is merged.
    client.force_login(staff_user("editor@example.org", groups=["Editors"]))
    assert _status(client, url) == 403


@pytest.mark.parametrize("url", [DASHBOARD, BY_DAY, BY_COUNTRY, BY_SOURCE, DELIVERY])
def test_organisers_see_the_dashboard_and_take_every_export_without_emails(
    client, petition, url
):
    client.force_login(organiser())
    assert _status(client, url) == 200


def test_organisers_are_refused_the_delivery_list_with_emails(client, petition):
    client.force_login(organiser())
    assert _status(client, DELIVERY_EMAILS) == 403
    assert not petition.exports.exists()


def test_the_emails_permission_adds_the_email_column(client, petition):
    client.force_login(organiser(permissions=["organising.export_emails"]))
    response = _request(client, DELIVERY_EMAILS)
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response.status_code == 200
    assert body.splitlines()[0].endswith(",E-mail")
    assert "ana@example.org" in body


def test_the_emails_permission_alone_does_not_open_the_delivery_list(client, petition):
    client.force_login(
        staff_user("emails-only@example.org", permissions=["organising.export_emails"])
    )
    assert _status(client, DELIVERY_EMAILS) == 403


def test_count_exports_alone_do_not_open_the_delivery_list(client, petition):
    client.force_login(
        staff_user("counts@example.org", permissions=["organising.export_counts"])
    )
    assert _status(client, BY_DAY) == 200
    assert _status(client, BY_COUNTRY) == 200
    assert _status(client, BY_SOURCE) == 200
    assert _status(client, DELIVERY) == 403


def test_the_dashboard_offers_only_the_downloads_the_user_may_take(client, petition):
    client.force_login(organiser())
    page = client.get(DASHBOARD).content.decode()
    assert 'action="/admin/petitions/petition/dashboard/justice/delivery.csv"' in page
    assert 'name="emails"' not in page

    client.force_login(
        organiser("trusted@example.org", permissions=["organising.export_emails"])
    )
    page = client.get(DASHBOARD).content.decode()
    assert '<input type="hidden" name="emails" value="1">' in page


def test_the_admin_index_links_to_the_dashboard_for_organisers_only(client, petition):
    client.force_login(organiser())
    assert (
        'href="/admin/petitions/petition/dashboard/"'
        in client.get("/admin/").content.decode()
    )
    client.force_login(staff_user("staff@example.org"))
    assert "/dashboard/" not in client.get("/admin/").content.decode()


def test_organisers_can_read_the_export_record_but_not_change_it(client, petition):
    client.force_login(organiser())
    _request(client, BY_DAY)
    record = petition.exports.get()
    assert client.get("/admin/organising/signatureexport/").status_code == 200
    assert (
        client.get(f"/admin/organising/signatureexport/{record.pk}/change/").status_code
        == 200
    )
    assert client.get("/admin/organising/signatureexport/add/").status_code == 403
    response = client.post(f"/admin/organising/signatureexport/{record.pk}/delete/")
    assert response.status_code == 403
    assert petition.exports.count() == 1


def test_organisers_cannot_open_the_signature_admin(client, petition):
    client.force_login(organiser())
    assert client.get("/admin/petitions/signature/").status_code == 403


def test_export_emails_permission_exists_for_granting_by_hand():
    permission = Permission.objects.get(
        content_type__app_label="organising", codename="export_emails"
    )
    assert "e-mail" in permission.name


def test_the_download_list_offers_every_export_kind_to_those_holding_all(
    client, petition
):
    client.force_login(organiser(permissions=["organising.export_emails"]))
    page = client.get(DASHBOARD).content.decode()
    for kind in exports.PETITION_KINDS:
        extension = exports.EXTENSIONS[kind]
        assert (
            f'action="/admin/petitions/petition/dashboard/justice/{kind}.{extension}"'
            in page
        )


def test_a_kind_under_the_wrong_extension_is_not_found(client, petition):
    client.force_login(organiser())
    assert _status(client, BY_DAY.replace(".csv", ".pdf")) == 404


def test_the_old_addresses_of_the_back_office_lists_lead_to_the_new_ones(client):
    response = client.get("/admin/petitions/paperbatch/?petition__id__exact=3")
    assert response.status_code == 301
    assert response["Location"] == "/admin/organising/paperbatch/?petition__id__exact=3"
    response = client.get("/admin/petitions/signatureexport/7/change/")
    assert response["Location"] == "/admin/organising/signatureexport/7/change/"
    assert client.get("/admin/petitions/signature/").status_code == 302  # log in
