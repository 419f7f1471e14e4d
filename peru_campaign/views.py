"""Site-wide views: the home page, the health check and robots.txt."""

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe

from core.http_cache import render_shared
from newsletters.models import Entry
from pages.models import Page
from petitions.selectors import petition_featured_with_count
from petitions.views import petition_context
from reports.models import Report


@require_safe
def home(request):
    # The same for every visitor: shared by the cache here and the HTTP
    # cache in front (Cache-Control public), which carry a surge.
    def context():
        petition = petition_featured_with_count()
        return {
            "what_happened": Page.objects.filter(slug="what-happened").first(),
            "latest_entries": list(Entry.objects.published()[:3]),
            "latest_report": Report.objects.published().first(),
            **(petition_context(petition) if petition else {}),
            # Never a query string (?source=..., a token) in a shared page.
            "canonical_path": request.path,
        }

    return render_shared(request, "pages/home.html", context)


@never_cache
@require_safe
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@require_safe
def robots_txt(request):
    # Confirmation and withdrawal links carry personal tokens; previews are
    # for staff. Each exists once per language.
    private = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            private += [
                reverse("petitions:confirm"),
                reverse("petitions:withdraw"),
                reverse("petitions:unsubscribe"),
                reverse("newsletters:index") + "preview/",  # + <pk>/
            ]
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        *(f"Disallow: {path}" for path in private),
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


@require_safe
def favicon(request):
    # Browsers and feed readers that ask for /favicon.ico expect an icon
    # format; the SVG is offered to modern browsers by the <link> in base.html.
    return redirect(static("img/favicon.ico"))


@require_safe
@cache_control(public=True, max_age=86400)
def manifest(request):
    """The web app manifest, so "Add to home screen" gets a name and icons."""
    data = {
        "name": "Stand with the Victims of Repression in Peru",
        "short_name": "Stand with Peru",
        "start_url": "/",
        "display": "browser",
        "background_color": "#ffffff",
        "theme_color": "#1d1d1f",
        "icons": [
            {
                "src": static(f"img/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
            }
            for size in (192, 512)
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")


def csrf_failure(request, reason=""):
    """A plain explanation instead of Django's technical CSRF page."""
    return render(request, "403_csrf.html", status=403)
