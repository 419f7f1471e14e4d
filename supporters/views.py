"""A supporter's own page and the form that e-mails a link to it.

The form answers the same whatever is held, so it tells nobody whether an
address signed. The page is reached only through a signed, expiring link
(core.supporter_links) and every change on it is a POST with Django's CSRF
token and the link's token, so a link opened by a mail scanner changes
nothing and another site cannot make a browser change anything.
"""

from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from core import signed_links, supporter_links
from core.fetch_metadata import cross_origin_protected
from core.forms import form_add_validation_error
from petitions import ratelimit

from . import services
from .forms import LinkRequestForm, NameForm
from .selectors import Held, held_for_link


def _page_link_problem(request, message: str, status: int):
    return render(
        request,
        "supporters/link_problem.html",
        {"message": message},
        status=status,
    )


def _held_from_link(request) -> tuple[Held | None, str, object]:
    """What the link's token names, the token, and the error page to answer
    instead when the link does not work."""
    data = request.POST if request.method == "POST" else request.GET
    token = data.get("t") or ""
    try:
        kind, record_id = supporter_links.read_token(token)
    except signed_links.ExpiredToken:
        problem = _(
            "This link has expired. Ask for a new one below: we will send it "
            "to the same address."
        )
        return None, token, _page_link_problem(request, problem, status=410)
    except signed_links.InvalidToken:
        problem = _(
            "This link is not valid. Please check that you copied the whole "
            "address from the e-mail, or ask for a new link below."
        )
        return None, token, _page_link_problem(request, problem, status=400)
    return held_for_link(kind=kind, record_id=record_id), token, None


@cross_origin_protected
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def link_request(request):
    if request.method != "POST":
        return render(request, "supporters/request.html", {"form": LinkRequestForm()})
    form = LinkRequestForm(request.POST)
    sent = HttpResponseRedirect(reverse("supporters:sent"), status=303)
    if form.is_bot:
        return sent
    wait = ratelimit.hit(
        scope="supporters",
        client=ratelimit.request_ip_hash(request),
        limits=ratelimit.sign_limits(),
    )
    if wait is not None:
        response = render(
            request,
            "supporters/request.html",
            {"form": form, "message": ratelimit.signing_paused_message(wait)},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
    if not form.is_valid():
        return render(request, "supporters/request.html", {"form": form}, status=400)
    services.supporter_link_request(
        email=form.cleaned_data["email"], language=get_language()
    )
    # The same answer whatever is held: it never tells who signed.
    return sent


@require_safe
def link_sent(request):
    return render(request, "supporters/sent.html")


def _page(request, held: Held, token: str, *, name_form=None, status=200, **extra):
    return render(
        request,
        "supporters/page.html",
        {
            "held": held,
            "token": token,
            "name_form": name_form or NameForm(),
            **extra,
        },
        status=status,
    )


@never_cache
@require_safe
def supporter_page(request):
    held, token, problem = _held_from_link(request)
    if problem:
        return problem
    return _page(request, held, token)


@never_cache
@require_POST
def name_correct(request):
    held, token, problem = _held_from_link(request)
    if problem:
        return problem
    form = NameForm(request.POST)
    if not form.is_valid():
        return _page(request, held, token, name_form=form, status=400)
    try:
        services.supporter_name_correct(
            held=held, full_name=form.cleaned_data["full_name"]
        )
    except ValidationError as error:
        form_add_validation_error(form, error)
        return _page(request, held, token, name_form=form, status=400)
    refreshed, _token, _problem = _held_from_link(request)
    return _page(request, refreshed, token, done=_("Your name is corrected."))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def delete(request):
    """GET asks to confirm; the POST with `confirm` deletes."""
    held, token, problem = _held_from_link(request)
    if problem:
        return problem
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        return render(
            request, "supporters/delete_confirm.html", {"held": held, "token": token}
        )
    services.supporter_delete(held=held)
    return render(request, "supporters/deleted.html")


@never_cache
@require_POST
def objection(request):
    held, token, problem = _held_from_link(request)
    if problem:
        return problem
    services.supporter_object(held=held)
    refreshed, _token, _problem = _held_from_link(request)
    return _page(
        request,
        refreshed,
        token,
        done=_(
            "We will send you no more campaign e-mail. Your signatures still count."
        ),
    )
