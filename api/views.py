"""The OSDI petitions API. Rules live in api.services and petitions.services."""

import json
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.core.paginator import InvalidPage, Paginator
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from core.client_ip import client_ip
from petitions import selectors
from petitions.models import Petition, SignatureCount

from . import osdi, services
from .services import ErrorDescription, OsdiProblem

TOKEN_HEADER = "OSDI-API-Token"
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100


def osdi_endpoint(*, methods: tuple[str, ...] = ("GET",), scope: str | None = None):
    """Wrap an API view: token check, scope check, OSDI errors, and the audit row.

    A token is optional for public reads and required when `scope` names one
    of ApiToken's permission flags. A token that is sent must be valid: a
    wrong or revoked one is a 401 even where none is needed, so a partner
    notices at once. Cookies play no part, so CSRF protection has nothing to
    protect and is off.
    """

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            raw = request.headers.get(TOKEN_HEADER)
            token = None
            if raw is not None:
                token = services.api_token_authenticate(raw_token=raw)
                if token is None:
                    return _unauthorised()
            if request.method not in methods:
                response = osdi.error_response(
                    405,
                    [
                        ErrorDescription(
                            "METHOD_NOT_ALLOWED",
                            _("This address does not accept that method."),
                        )
                    ],
                )
                response["Allow"] = ", ".join(methods)
            elif scope and token is None:
                return _unauthorised()
            elif scope and not getattr(token, scope):
                response = osdi.error_response(
                    403,
                    [
                        ErrorDescription(
                            "FORBIDDEN",
                            _("This token is not allowed to do that."),
                        )
                    ],
                )
            else:
                try:
                    response = view(request, *args, token=token, **kwargs)
                except Http404:
                    response = osdi.error_response(
                        404, [ErrorDescription("NOT_FOUND", _("Not found."))]
                    )
                except OsdiProblem as problem:
                    response = osdi.error_response(problem.status, problem.descriptions)
                    if problem.retry_after is not None:
                        response["Retry-After"] = str(problem.retry_after)
            if token is not None:
                services.api_request_record(
                    token=token,
                    method=request.method,
                    path=request.path,
                    status=response.status_code,
                )
            return response

        return wrapped

    return decorator


def _unauthorised():
    response = osdi.error_response(
        401,
        [
            ErrorDescription(
                "UNAUTHORIZED",
                _("Send a valid API token in the OSDI-API-Token header."),
            )
        ],
    )
    response["WWW-Authenticate"] = TOKEN_HEADER
    return response


def _page(request, queryset):
    """The requested page, or an OsdiProblem for nonsense paging parameters."""
    try:
        number = int(request.GET.get("page", 1))
        per_page = int(request.GET.get("per_page", DEFAULT_PER_PAGE))
    except ValueError:
        raise OsdiProblem.one(
            400,
            "INVALID_PAGING",
            _("page and per_page must be whole numbers."),
            ("page", "per_page"),
        ) from None
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise OsdiProblem.one(
            400,
            "INVALID_PAGING",
            _("per_page must be between 1 and %(max)d.") % {"max": MAX_PER_PAGE},
            ("per_page",),
        )
    try:
        return Paginator(queryset, per_page).page(number), per_page
    except InvalidPage:
        raise Http404 from None


def _public_petition(slug: str) -> Petition:
    petition = selectors.petition_public_with_count(slug=slug)
    if petition is None:
        raise Http404
    return petition


@osdi_endpoint()
def entry_point(request, token):
    """The API Entry Point (aep.md): what this server offers, as links."""
    return osdi.hal_response(
        {
            "motd": _(
                "Petitions of the campaign Stand with the Victims of "
                "Repression in Peru."
            ),
            "vendor_name": osdi.ORIGIN_SYSTEM,
            "product_name": osdi.ORIGIN_SYSTEM,
            "osdi_version": "1.1",
            "max_pagesize": MAX_PER_PAGE,
            "_links": {
                "self": {
                    **osdi.link(reverse("api:entry_point")),
                    "title": _("This API entry point"),
                },
                "osdi:petitions": {
                    **osdi.link(reverse("api:petitions")),
                    "title": _("The campaign's petitions"),
                },
                "docs": {"href": osdi.DOCS_URL.format(rel=""), "title": "OSDI"},
                "curies": osdi.curies(),
            },
        }
    )


@osdi_endpoint()
def petition_collection(request, token):
    signature_count = (
        SignatureCount.objects.filter(petition=OuterRef("pk"))
        .values("petition")
        .annotate(total=Sum("count"))
        .values("total")
    )
    petitions = (
        Petition.objects.public()
        .annotate(signature_count=Coalesce(Subquery(signature_count), 0))
        .order_by("-created_at", "pk")
    )
    page, per_page = _page(request, petitions)
    items = [
        osdi.petition_resource(petition, petition.signature_count)
        for petition in page.object_list
    ]
    return osdi.hal_response(
        osdi.collection(
            rel="osdi:petitions",
            items=items,
            page=page,
            self_path=reverse("api:petitions"),
            per_page=per_page,
        )
    )


@osdi_endpoint()
def petition_detail(request, slug, token):
    petition = _public_petition(slug)
    return osdi.hal_response(
        {
            **osdi.petition_resource(petition, petition.signature_count),
            "_links": {**osdi.petition_links(petition), "curies": osdi.curies()},
        }
    )


@osdi_endpoint(scope="can_read_signatures")
def signature_collection(request, slug, token):
    petition = _public_petition(slug)
    personal_data = token.may_read_personal_data()
    signatures = services.petition_signatures_for_partner(petition=petition)
    page, per_page = _page(request, signatures.select_related("petition"))
    items = [
        osdi.signature_resource(signature, personal_data=personal_data)
        for signature in page.object_list
    ]
    if personal_data and items:
        services.signature_export_record_api(
            petition=petition, token=token, row_count=len(items)
        )
    response = osdi.hal_response(
        osdi.collection(
            rel="osdi:signatures",
            items=items,
            page=page,
            self_path=reverse("api:signatures", args=[petition.slug]),
            per_page=per_page,
        )
    )
    if personal_data:
        response["Cache-Control"] = "no-store"
    return response


@osdi_endpoint(methods=("POST",), scope="can_record_signatures")
def record_signature_helper(request, slug, token):
    """OSDI's Record Signature Helper (record_signature.md).

    The answer is the same whatever happened to the address (new signer,
    already signed, pending): a signature resource with no identifier, since
    a row id would tell the caller which case it was.
    """
    petition = Petition.objects.public().filter(slug=slug).first()
    if petition is None:
        raise Http404
    try:
        payload = json.loads(request.body or b"null")
    except RequestDataTooBig:
        raise OsdiProblem.one(
            413, "TOO_LARGE", _("The body is too large for one signature.")
        ) from None
    except (ValueError, RecursionError):
        raise OsdiProblem.one(
            400, "INVALID_JSON", _("The body is not valid JSON.")
        ) from None
    source = services.signature_record_from_partner(
        petition=petition, token=token, payload=payload, client_ip=client_ip(request)
    )
    now = osdi.osdi_date(timezone.now())
    return osdi.hal_response(
        {
            "origin_system": osdi.ORIGIN_SYSTEM,
            "created_date": now,
            "modified_date": now,
            "action_date": now,
            "status": "awaiting_confirmation",
            "referrer_data": {"source": source},
            "_links": {
                "osdi:petition": osdi.link(reverse("api:petition", args=[slug])),
                "curies": osdi.curies(),
            },
        }
    )
