"""The site's URLs plus one that exists only under `make bench`: the ceiling
for signing, a minimal Django view that stores one signature row."""

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from peru_campaign.urls import urlpatterns as site_urlpatterns
from petitions.models import Petition, Signature

CEILING_SLUG = "bench-ceiling"
_INSERT = (
    f"INSERT INTO {Signature._meta.db_table} (petition_id, status, full_name, "
    "email, email_normalised, country, postcode, ip_hash, consent_version, "
    "consent_language, wants_updates, show_publicly, created_at, "
    "repeat_emails_sent) VALUES (%s, 'pending', %s, %s, %s, 'GB', '', '', "
    "'bench', 'en', false, false, %s, 0)"
)
_petition_id = None


@csrf_exempt
@require_POST
def insert_one_row(request):
    global _petition_id
    if _petition_id is None:
        _petition_id = Petition.objects.get(slug=CEILING_SLUG).pk
    email = request.POST.get("email", "")
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT,
            [
                _petition_id,
                request.POST.get("full_name", ""),
                email,
                email,
                timezone.now(),
            ],
        )
    return HttpResponse(status=303, headers={"Location": "/"})


urlpatterns = [path("bench/insert/", insert_one_row), *site_urlpatterns]
