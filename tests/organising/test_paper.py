"""Paper and street signatures: batches, their counts, their audit, who may edit."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from organising import paper
from organising.models import PaperBatch, PaperBatchChange
from petitions import selectors, services
from petitions.models import Petition
from tests.petitions.factories import (
    ConfirmedSignatureFactory,
    PetitionFactory,
    staff_user,
)

from .factories import organiser, recount

pytestmark = pytest.mark.django_db

BATCHES = "/admin/organising/paperbatch/"


def _batch(petition, *, user=None, **fields):
    values = {
        "country": "PE",
        "count": 10,
        "collected_on": datetime.date(2026, 11, 20),
        "collected_by": "Puno volunteers",
        **fields,
    }
    return paper.paper_batch_save(
        batch=PaperBatch(petition=petition, **values), user=user
    )


@pytest.fixture
def petition():
    petition = PetitionFactory(slug="justice", goal=100)
    ConfirmedSignatureFactory.create_batch(3, petition=petition, country="GB")
    recount(petition)
    return petition


def test_a_batch_adds_to_the_total_and_to_its_country(petition):
    _batch(petition, count=40)
    assert services.petition_signature_count(petition) == 43
    by_country, _at = services.petition_counts_by_country(petition)
    assert by_country == {"PE": 40, "GB": 3}
    assert selectors.petition_signature_and_paper_counts(petition) == (43, 40)


def test_changing_a_batch_moves_the_counts_by_the_difference(petition):
    batch = _batch(petition, count=40)
    batch.count = 25
    batch.country = "BO"
    paper.paper_batch_save(batch=batch)
    by_country, _at = services.petition_counts_by_country(petition)
    assert by_country == {"BO": 25, "GB": 3}


def test_deleting_a_batch_takes_it_out_of_the_total(petition):
    batch = _batch(petition, count=40)
    paper.paper_batch_delete(batch=batch)
    assert services.petition_signature_count(petition) == 3
    assert not PaperBatch.objects.exists()


def test_reconciling_keeps_the_batches_in_the_count(petition):
    _batch(petition, count=40)
    _batch(petition, count=7, country="")
    assert paper.signature_counts_reconcile(petition=petition) == (50, 50)
    by_country, _at = services.petition_counts_by_country(petition)
    assert by_country == {"PE": 40, "": 7, "GB": 3}


def test_every_write_is_audited_with_the_figures_before_and_after(petition):
    user = organiser()
    batch = _batch(petition, count=40, user=user)
    batch.count = 41
    paper.paper_batch_save(batch=batch, user=user)
    batch_id = batch.pk
    paper.paper_batch_delete(batch=batch, user=user)
    changes = list(PaperBatchChange.objects.order_by("pk"))
    assert [c.action for c in changes] == ["created", "changed", "deleted"]
    assert {c.batch_id for c in changes} == {batch_id}
    assert {c.user_name for c in changes} == {"organiser@example.org"}
    assert changes[0].before is None and changes[0].after["count"] == 40
    assert (changes[1].before["count"], changes[1].after["count"]) == (40, 41)
    assert changes[2].before["count"] == 41 and changes[2].after is None


def test_saving_a_batch_unchanged_writes_no_audit_row(petition):
    batch = _batch(petition)
    paper.paper_batch_save(batch=PaperBatch.objects.get(pk=batch.pk))
    assert PaperBatchChange.objects.count() == 1
    assert services.petition_signature_count(petition) == 13


def test_more_names_than_the_count_is_refused(petition):
    with pytest.raises(ValidationError) as error:
        _batch(petition, count=1, names="Ana Quispe\nLuis Mamani\n")
    assert "names" in error.value.message_dict
    assert services.petition_signature_count(petition) == 3


def test_a_collection_date_in_the_future_is_refused(petition):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError):
        _batch(petition, collected_on=tomorrow)


def test_the_petition_page_states_online_and_paper_apart_in_one_query(
    client, petition, django_assert_num_queries
):
    _batch(petition, count=1147)
    client.get(petition.get_absolute_url())  # fill the page cache
    # Session-free visitor: the cached shell, then the petition with its counts
    # (and its signing pause), and the site banner.
    with django_assert_num_queries(3):
        html = client.get(petition.get_absolute_url()).content.decode()
    assert re.search(r'<strong class="count-number">1,150</strong>', html)
    assert "3 online and 1,147 on paper" in html
    es = client.get("/es" + petition.get_absolute_url()).content.decode()
    assert re.search(r"3 en línea y 1.?147 en papel", es)


def test_the_home_page_and_the_json_include_paper(client, petition):
    _batch(petition, count=1147)
    assert "1,150" in client.get("/").content.decode()
    data = client.get(reverse("petitions:json", kwargs={"slug": "justice"})).json()
    assert data["signature_count"] == 1150
    assert data["paper_signature_count"] == 1147
    assert data["signatures_by_country"] == {"PE": 1147, "GB": 3}


def test_no_paper_line_without_batches(client, petition):
    ConfirmedSignatureFactory(petition=petition)
    recount(petition)
    page = client.get(petition.get_absolute_url()).content.decode()
    assert "signature" in page and "on paper" not in page


def test_organisers_enter_a_batch_in_the_admin_and_it_is_audited(client, petition):
    user = organiser()
    client.force_login(user)
    response = client.post(
        BATCHES + "add/",
        {
            "petition": petition.pk,
            "country": "PE",
            "count": "120",
            "collected_on": "2026-11-20",
            "collected_by": "Juliaca market stall",
            "note": "",
            "names": "Ana Quispe\nLuis Mamani",
        },
    )
    assert response.status_code == 302
    batch = PaperBatch.objects.get()
    assert (batch.created_by, batch.updated_by) == (user, user)
    assert services.petition_signature_count(petition) == 123
    assert PaperBatchChange.objects.get().user == user
    response = client.post(BATCHES + f"{batch.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert services.petition_signature_count(petition) == 3
    assert PaperBatchChange.objects.filter(action="deleted").count() == 1


def test_organisers_read_the_audit_trail_but_cannot_change_it(client, petition):
    _batch(petition)
    change = PaperBatchChange.objects.get()
    client.force_login(organiser())
    url = f"/admin/organising/paperbatchchange/{change.pk}/"
    assert client.get("/admin/organising/paperbatchchange/").status_code == 200
    assert client.get(url + "change/").status_code == 200
    assert client.post(url + "delete/", {"post": "yes"}).status_code == 403
    assert PaperBatchChange.objects.count() == 1


@pytest.mark.parametrize("path", [BATCHES, BATCHES + "add/"])
def test_staff_without_the_permission_cannot_see_or_enter_batches(
    client, petition, path
):
    client.force_login(staff_user("staff@example.org"))
    assert client.get(path).status_code == 403
    client.force_login(staff_user("editor@example.org", groups=["Editors"]))
    assert client.get(path).status_code == 403


def test_a_closed_petition_still_takes_batches(petition):
    # Paper collected before the close is often entered after it.
    Petition.objects.filter(pk=petition.pk).update(state=Petition.State.CLOSED)
    petition.refresh_from_db()
    _batch(petition, count=5)
    assert services.petition_signature_count(petition) == 8


def test_the_dashboard_states_paper_apart(client, petition):
    _batch(petition, count=1147)
    client.force_login(organiser())
    page = client.get("/admin/petitions/petition/dashboard/justice/").content.decode()
    assert "Plus 1,147 signatures on paper: 1,150 in all" in page
    assert "/admin/organising/paperbatch/?petition__id__exact=" in page


def test_retention_deletes_paper_names_and_their_audit_copies_but_keeps_counts():
    closed = PetitionFactory(
        state=Petition.State.CLOSED,
        closes_at=timezone.now() - datetime.timedelta(days=200),
    )
    batch = _batch(closed, count=3, names="Ana Quispe\nLuis Mamani")
    open_one = PetitionFactory()
    _batch(open_one, count=2, names="Rosa Condori")
    cutoff = timezone.now() - datetime.timedelta(days=180)
    assert paper.paper_batch_names_delete(closed_before=cutoff, dry_run=True) == 1
    assert paper.paper_batch_names_delete(closed_before=cutoff) == 1
    batch.refresh_from_db()
    assert batch.names == "" and batch.count == 3
    assert PaperBatchChange.objects.get(petition=closed).after["names"] == ""
    assert PaperBatch.objects.get(petition=open_one).names == "Rosa Condori"
