"""The organisers' area of the admin: the campaign dashboard and its downloads.

Served under /admin/petitions/petition/dashboard/ (organising.urls, mounted
before the admin in peru_campaign/urls.py, where organisers have always found
it), each view wrapped by the admin site's `admin_view`, so the admin's login,
staff check and never-cache headers apply. Who may see what is defined once,
in `exports` (the permissions and the list of downloads built from the export
kinds).
"""

import hmac

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from newsletters.services import subscriber_totals
from petitions.models import Petition

from . import exports, fraud, metrics, system_status
from .dashboard import petition_dashboard
from .forms import BulkInvalidationForm
from .selectors import retention_run_latest


def _admin_context(request, *, title: str) -> dict:
    # The admin's own pages pass the petition's options as `opts`: the
    # breadcrumbs then lead back to the petitions' list, as they always have.
    return {
        **admin.site.each_context(request),
        "title": title,
        "opts": Petition._meta,
    }


def dashboard(request, slug=None):
    if not request.user.has_perm(exports.DASHBOARD_PERMISSION):
        raise PermissionDenied
    petitions = list(Petition.objects.featured())
    if slug is None:
        petition = petitions[0] if petitions else None
    else:
        petition = next((p for p in petitions if p.slug == slug), None)
        if petition is None:
            raise Http404
    context = {
        **_admin_context(request, title=_("Campaign dashboard")),
        "petitions": petitions,
        "petition": petition,
        "dashboard": petition_dashboard(petition=petition) if petition else None,
        "downloads": (
            exports.downloads_for(request.user, petition=petition) if petition else []
        ),
        "may_view_exports": request.user.has_perm(exports.VIEW_EXPORTS_PERMISSION),
        "may_invalidate": request.user.has_perm(fraud.INVALIDATE_PERMISSION),
        "threshold": settings.FRAUD_ALERT_THRESHOLD,
        # The newsletter's list: counts only, never an address.
        "subscribers": subscriber_totals(),
        # Numbers only: what the last retention run deleted, and when.
        "retention": retention_run_latest(),
    }
    return TemplateResponse(request, "admin/organising/dashboard.html", context)


def bulk_invalidate(request, slug):
    """GET: the criteria and how many signatures they match. POST: run it."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if not request.user.has_perm(fraud.INVALIDATE_PERMISSION):
        raise PermissionDenied
    petition = get_object_or_404(Petition, slug=slug)
    data = request.POST if request.method == "POST" else request.GET
    form = BulkInvalidationForm(data or None)
    matching = None
    if form.is_valid():
        criteria = fraud.Criteria(petition=petition, **form.cleaned_data)
        try:
            fraud.criteria_check_permitted(criteria=criteria, user=request.user)
            matching = fraud.signatures_matching(criteria).count()
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if request.method == "POST":
                # The worker runs it (organising.tasks.run_bulk_invalidation);
                # the list of bulk invalidations shows when it is done.
                fraud.bulk_invalidation_queue(criteria=criteria, user=request.user)
                messages.success(
                    request,
                    ngettext(
                        "The invalidation of the %(count)d matching signature "
                        "is queued; it shows as done in this list in a few "
                        "moments. You can undo it for %(days)d days.",
                        "The invalidation of the %(count)d matching signatures "
                        "is queued; it shows as done in this list in a few "
                        "moments. You can undo it for %(days)d days.",
                        matching,
                    )
                    % {
                        "count": matching,
                        "days": settings.BULK_INVALIDATION_UNDO_DAYS,
                    },
                )
                return HttpResponseRedirect(
                    reverse("admin:organising_bulkinvalidation_changelist")
                )
    context = {
        **_admin_context(request, title=_("Invalidate signatures by criteria")),
        "petition": petition,
        "form": form,
        "matching": matching,
        "undo_days": settings.BULK_INVALIDATION_UNDO_DAYS,
    }
    return TemplateResponse(request, "admin/organising/bulk_invalidate.html", context)


@require_POST
def export(request, slug, kind, extension):
    """Stream one export and record it. POST only, behind the CSRF check:
    every download writes the export log, and most carry supporters' data."""
    if kind not in exports.PETITION_KINDS or exports.EXTENSIONS[kind] != extension:
        raise Http404
    with_emails = request.POST.get("emails") == "1"
    if with_emails and kind != exports.Kind.DELIVERY:
        raise Http404
    if not exports.user_may_export(request.user, kind=kind, with_emails=with_emails):
        raise PermissionDenied
    petition = get_object_or_404(Petition, slug=slug)
    _record, chunks = exports.export_file(
        petition=petition, kind=kind, with_emails=with_emails, user=request.user
    )
    response = StreamingHttpResponse(
        chunks, content_type=exports.CONTENT_TYPES[extension]
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True,
        filename=exports.export_filename(
            petition=petition, kind=kind, with_emails=with_emails
        ),
    )
    # Ask a buffering proxy (nginx) to pass the rows on as they come.
    response["X-Accel-Buffering"] = "no"
    return response


STATUS_PERMISSION = "organising.view_system_status"


def _metrics_token_given(request) -> bool:
    expected = settings.METRICS_TOKEN
    if not expected:
        return False
    scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
    # Constant time: the comparison does not tell how much of a guess was right.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.encode(), expected.encode()
    )


def metrics_view(request):
    """Prometheus' scrape: only with the operators' bearer token. Anyone
    else, with a wrong token or none, finds nothing here (404)."""
    if not _metrics_token_given(request):
        raise Http404
    response = HttpResponse(metrics.metrics_text(), content_type=metrics.CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


def system_status_view(request):
    if not request.user.has_perm(STATUS_PERMISSION):
        raise PermissionDenied
    readings = system_status.system_readings()
    context = {
        **_admin_context(request, title=_("System status")),
        "lines": system_status.status_lines(readings),
    }
    return TemplateResponse(request, "admin/organising/system_status.html", context)
