from django.urls import path, re_path

from . import views

app_name = "api"

# OSDI's own paths have no trailing slash, but its examples also write
# ".../petitions/"; both are accepted. The named routes reverse without one.
_SLUG = r"(?P<slug>[-a-zA-Z0-9_]+)"

urlpatterns = [
    path("", views.entry_point, name="entry_point"),
    path("petitions", views.petition_collection, name="petitions"),
    path("petitions/", views.petition_collection),
    path("petitions/<slug:slug>", views.petition_detail, name="petition"),
    re_path(rf"^petitions/{_SLUG}/$", views.petition_detail),
    path(
        "petitions/<slug:slug>/signatures",
        views.signature_collection,
        name="signatures",
    ),
    re_path(rf"^petitions/{_SLUG}/signatures/$", views.signature_collection),
    # record_signature.md posts to the petition's helper; some clients post
    # under the signatures collection instead. Both are the same endpoint.
    path(
        "petitions/<slug:slug>/record_signature_helper",
        views.record_signature_helper,
        name="record_signature_helper",
    ),
    re_path(
        rf"^petitions/{_SLUG}/(signatures/)?record_signature_helper/?$",
        views.record_signature_helper,
    ),
]
