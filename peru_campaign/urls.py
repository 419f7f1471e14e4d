from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from organising.views import metrics_view

from . import views
from .sitemaps import SITEMAPS

admin.site.site_header = "Stand with the Victims of Repression in Peru"
admin.site.site_title = "Campaign admin"
admin.site.index_title = "Campaign administration"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Operators only: a bearer token (METRICS_TOKEN), else 404.
    path("metrics", metrics_view, name="metrics"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path(
        "sitemap.xml",
        sitemap,
        {"sitemaps": SITEMAPS},
        name="django.contrib.sitemaps.views.sitemap",
    ),
    path("favicon.ico", views.favicon, name="favicon"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    # The organisers' dashboard, at the address it has always had inside the
    # admin: before the admin, whose petition pages would take "dashboard/"
    # for a petition's id.
    path("admin/petitions/petition/dashboard/", include("organising.urls")),
    # The back office's lists were under /admin/petitions/ before the app
    # moved: organisers' bookmarks lead to where they are now.
    re_path(
        r"^admin/petitions/(?P<model>bulkinvalidation|paperbatch|paperbatchchange"
        r"|signaturealert|signatureexport)/(?P<rest>.*)$",
        RedirectView.as_view(
            url="/admin/organising/%(model)s/%(rest)s",
            permanent=True,
            query_string=True,
        ),
    ),
    # The second factor's pages, before the admin's catch-all.
    path("admin/second-factor/passkeys/", include("django_otp_webauthn.urls")),
    path("admin/second-factor/", include("staff.urls")),
    path("admin/", admin.site.urls),
    # The partners' OSDI API: JSON only, so outside the language prefixes.
    path("api/v1/", include("api.urls")),
]
# Bounce and complaint webhooks, only when their basic-auth secret is set.
if settings.ANYMAIL.get("WEBHOOK_SECRET"):
    urlpatterns.append(path("anymail/", include("newsletters.webhook_urls")))
# The public site in each language: English at /, Spanish under /es/.
urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("petitions/", include("petitions.urls")),
    path("news/", include("newsletters.urls")),
    path("reports/", include("reports.urls")),
    path("embed/", include("api.widget_urls")),
    path("your-data/", include("supporters.urls")),
    # Last: campaign pages are addressed by slug at the top level.
    path("", include("pages.urls")),
    prefix_default_language=False,
)
