"""The public news pages, their archives, the staff-only preview, and the
mailing list's subscribe and unsubscribe pages."""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe
from django.views.generic.dates import (
    ArchiveIndexView,
    MonthArchiveView,
    YearArchiveView,
)

from core.client_ip import client_ip
from core.fetch_metadata import cross_origin_protected
from core.signed_links import id_from_token, link_problem
from petitions import ratelimit

from . import services, tokens
from .forms import SubscribeForm
from .models import Entry


class PublishedEntriesMixin:
    """Date archives keyed on the month an entry covers, published entries only."""

    date_field = "month"
    # Whether an entry is due is decided by its pub_date in published(), not by
    # the month it covers.
    allow_future = True
    ordering = ["-month", "-pub_date"]
    context_object_name = "entries"

    def get_queryset(self):
        # Called per request: published() compares with the current time.
        return Entry.objects.published()


class EntryArchiveIndexView(PublishedEntriesMixin, ArchiveIndexView):
    allow_empty = True


class EntryYearArchiveView(PublishedEntriesMixin, YearArchiveView):
    make_object_list = True


class EntryMonthArchiveView(PublishedEntriesMixin, MonthArchiveView):
    month_format = "%m"


def _render_entry(request, entry, *, preview=False):
    return render(
        request,
        "newsletters/entry_detail.html",
        {"entry": entry, "sources": entry.sources.all(), "preview": preview},
    )


@require_safe
def entry_detail(request, year: int, month: int, slug: str):
    entry = get_object_or_404(
        Entry.objects.published(),
        month__year=year,
        month__month=month,
        slug=slug,
    )
    return _render_entry(request, entry)


@never_cache
@require_safe
def entry_preview(request, pk: int):
    """Any entry, draft or scheduled, as the public will see it; staff only."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not (
        request.user.is_staff and request.user.has_perm("newsletters.change_entry")
    ):
        raise PermissionDenied
    entry = get_object_or_404(Entry, pk=pk)
    return _render_entry(request, entry, preview=True)


# ------------------------------------------------------------------------------
# The mailing list: subscribe (double opt-in) and one-click unsubscribe
# ------------------------------------------------------------------------------
def _subscribe_page(request, form, status=200):
    return render(
        request, "newsletters/subscribe.html", {"subscribe_form": form}, status=status
    )


@cross_origin_protected
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request):
    """GET: the form on a page of its own. POST: from any page's short form."""
    if request.method != "POST":
        return _subscribe_page(request, SubscribeForm())
    form = SubscribeForm(request.POST)
    check_inbox = HttpResponseRedirect(reverse("newsletters:subscribe_check_inbox"))
    check_inbox.status_code = 303
    if form.is_bot:
        return check_inbox
    ip_hash = ratelimit.request_ip_hash(request)
    wait = ratelimit.hit(
        scope="subscribe", client=ip_hash, limits=ratelimit.sign_limits()
    )
    if wait is not None:
        response = _subscribe_page(request, form, status=429)
        response["Retry-After"] = str(wait)
        return response
    if form.is_valid():
        services.subscriber_subscribe(
            email=form.cleaned_data["email"],
            language=get_language(),
            client_ip=client_ip(request),
        )
        # The same page whatever happened: it never tells who is on the list.
        return check_inbox
    return _subscribe_page(request, form, status=400)


@require_safe
def subscribe_check_inbox(request):
    return render(request, "newsletters/subscribe_check_inbox.html")


def _subscriber_from_token(request, purpose, token=None):
    return id_from_token(
        request,
        purpose,
        read_token=tokens.read_token,
        token=token,
        expired=_(
            "This link has expired. Subscribe again and we will send you a new one."
        ),
    )


@cross_origin_protected
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe_confirm(request):
    """GET shows a button; only the POST confirms, so mail scanners that open
    links in advance confirm nothing."""
    subscriber_id, token, problem = _subscriber_from_token(request, "confirm")
    if problem:
        return link_problem(request, problem)
    if request.method != "POST":
        return render(request, "newsletters/subscribe_confirm.html", {"token": token})
    try:
        services.subscriber_confirm(subscriber_id=subscriber_id)
    except ValidationError as error:
        return link_problem(request, error.messages[0], status=410)
    return render(request, "newsletters/subscribed.html")


# The one-click POST (RFC 8058) comes from a mail provider, with no cookie and
# no CSRF token; the signed token in the address is what authenticates it,
# and all it can do is stop e-mail to its own subscriber.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request):
    # The one-click POST carries the token in the address, not the body.
    subscriber_id, token, problem = _subscriber_from_token(
        request,
        "unsubscribe",
        token=request.GET.get("t") or request.POST.get("t") or "",
    )
    if problem:
        return link_problem(request, problem)
    if request.method != "POST":
        return render(request, "newsletters/unsubscribe.html", {"token": token})
    services.subscriber_unsubscribe(subscriber_id=subscriber_id)
    return render(request, "newsletters/unsubscribed.html")
