"""A staff member who opens a part of the admin outside their group gets a
page that explains why and where to go, not a bare "403 Forbidden"."""

import pytest

from tests.organising.factories import organiser

pytestmark = pytest.mark.django_db


def test_an_organiser_opening_the_news_admin_is_told_why(client):
    client.force_login(organiser())
    response = client.get("/admin/newsletters/entry/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "editors write the news" in html
    assert 'href="/admin/"' in html
