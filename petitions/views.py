"""Petition pages and the signing flow. Rules live in petitions.services."""

import functools

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template import engines
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)
from django_countries import countries

from core.client_ip import client_ip
from core.fetch_metadata import cross_origin_protected
from core.forms import form_add_validation_error
from core.http_cache import render_shared
from core.signed_links import InvalidToken, id_from_token, link_problem

from . import ratelimit, selectors, services, sources, tokens
from .forms import SignatureForm
from .models import Petition, Signature


@functools.lru_cache(maxsize=8)
def _blank_form_html(language: str, release: str) -> str:
    # The empty sign form is the same for every petition and visitor, and
    # rendering it through crispy-forms is over half of a page's time.
    template = engines["django"].from_string(
        "{% load crispy_forms_tags %}{% crispy form %}"
    )
    return template.render({"form": SignatureForm()})


def _signing_context(petition: Petition) -> dict:
    refusal = services.petition_signing_refusal(petition)
    return {"accepting_signatures": refusal is None, "refusal_message": refusal}


def petition_context(petition: Petition, form: SignatureForm | None = None) -> dict:
    """What any page showing a petition and its form needs. The same for every
    visitor (no token, nothing from the session), so caches may share it."""
    if getattr(petition, "signature_count", None) is None:
        petition.signature_count, petition.paper_count = (
            selectors.petition_signature_and_paper_counts(petition)
        )
    return {
        "petition": petition,
        "goal": petition.goal_for(petition.signature_count),
        **_signing_context(petition),
        "public_signers": selectors.petition_public_signers(petition),
        "form": form,
        "blank_form_html": None
        if form
        else _blank_form_html(get_language(), settings.RELEASE),
    }


@require_safe
def petition_list(request):
    petitions = list(Petition.objects.public().order_by("-created_at")[:50])
    if len(petitions) == 1:
        # The menu's "Petition" leads straight to it, not to a one-item list.
        return HttpResponseRedirect(petitions[0].get_absolute_url())
    return render(request, "petitions/petition_list.html", {"petitions": petitions})


@require_safe
def petition_countries(request, slug):
    """Where supporters are: confirmed signatures per country, no names."""
    petition = get_object_or_404(Petition.objects.public(), slug=slug)
    by_country, _updated_at = selectors.petition_counts_by_country(petition)
    shown, others = selectors.public_counts_by_country(by_country)
    rows = [
        {"name": countries.name(code), "count": count} for code, count in shown.items()
    ]
    rows.sort(key=lambda row: (-row["count"], row["name"]))
    return render(
        request,
        "petitions/countries.html",
        {
            "petition": petition,
            "rows": rows,
            "others": others,
            "total": sum(by_country.values()),
            "min_count": selectors.COUNTRY_TABLE_MIN_COUNT,
        },
    )


@require_safe
def petition_detail(request, slug):
    def context():
        petition = selectors.petition_public_with_count(slug=slug)
        if petition is None:
            raise Http404
        return {
            **petition_context(petition),
            # Never a query string (a mistyped ?t=<token>) in a shared page.
            "canonical_path": request.path,
        }

    return render_shared(request, "petitions/petition_detail.html", context)


def _refused(request, petition):
    closed = not petition.is_accepting_signatures()
    message = services.petition_signing_refusal(petition)
    return render(
        request,
        "petitions/refused.html",
        {"petition": petition, "message": message},
        # Paused by a surge switch: unavailable for now (503), not for good.
        status=403 if closed or message is None else 503,
    )


def _public_petition_or_404(slug) -> Petition:
    # A draft answers exactly like an unknown slug, so its address stays secret.
    petition = selectors.petition_public_by_slug(slug=slug)
    if petition is None:
        raise Http404
    return petition


@cross_origin_protected
@require_POST
def petition_sign(request, slug):
    ip_hash = ratelimit.request_ip_hash(request)
    rate_limit = ratelimit.Hit(
        scope="sign", client=ip_hash, limits=ratelimit.sign_limits()
    )
    form = SignatureForm(request.POST)
    # Checked before the database: it needs none. A valid form goes straight
    # to signature_create, which finds the petition, counts the request for
    # the rate limit and stores the row and its e-mail task in one statement
    # (one round trip, one commit); only the other answers read the petition.
    petition = None
    wait = None
    if form.is_bot or not form.is_valid():
        petition = _public_petition_or_404(slug)
        if services.petition_signing_refusal(petition) is not None:
            return _refused(request, petition)
        wait = rate_limit.count()
    else:
        data = form.cleaned_data
        try:
            services.signature_create(
                petition_slug=slug,
                full_name=data["full_name"],
                email=data["email"],
                country=data["country"],
                postcode=data["postcode"],
                wants_updates=data["wants_updates"],
                show_publicly=data["show_publicly"],
                name_withheld=data["name_withheld"],
                ip_hash=ip_hash,
                client_ip=client_ip(request),
                source=sources.source_for_request(request, data["source"]),
                rate_limit=rate_limit,
            )
        except ratelimit.RateLimited as limited:
            wait = limited.wait
        except services.PetitionNotOpen:
            return _refused(request, _public_petition_or_404(slug))
        except ValidationError as error:
            form_add_validation_error(form, error)
            # Refused before the statement that counts: counted here.
            wait = rate_limit.count()
    if wait is not None:
        petition = petition or _public_petition_or_404(slug)
        response = render(
            request,
            "petitions/rate_limited.html",
            {"petition": petition, "message": ratelimit.signing_paused_message(wait)},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
    if form.is_bot or not form.errors:
        return HttpResponseRedirect(_check_inbox_path(request.path, slug), status=303)
    petition = petition or _public_petition_or_404(slug)
    if services.petition_signing_refusal(petition) is not None:
        return _refused(request, petition)
    context = {
        **petition_context(petition, form),
        "canonical_path": petition.get_absolute_url(),
    }
    # 400: the form is shown again with every problem explained beside its field.
    return render(request, "petitions/petition_detail.html", context, status=400)


@functools.lru_cache(maxsize=64)
def _check_inbox_path(sign_path: str, slug: str) -> str:
    # reverse() walks the URL patterns each time, and this is the sign POST's
    # answer. The sign address fixes everything that answer depends on: the
    # script prefix, the language prefix and the slug.
    return reverse("petitions:check_inbox", kwargs={"slug": slug})


@require_safe
def check_inbox(request, slug):
    petition = get_object_or_404(Petition.objects.public(), slug=slug)
    return render(request, "petitions/check_inbox.html", {"petition": petition})


def _signature_from_token(request, purpose):
    return id_from_token(
        request,
        purpose,
        read_token=tokens.read_token,
        expired=_(
            "This link has expired. Sign the petition again and we "
            "will send you a new one."
        ),
    )


@cross_origin_protected
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request):
    """GET shows a button; only the POST confirms, so mail scanners that open
    links in advance cannot confirm (or break) anything."""
    signature_id, token, problem = _signature_from_token(request, "confirm")
    if problem:
        return link_problem(request, problem)
    if request.method != "POST":
        signature = (
            Signature.objects.select_related("petition").filter(pk=signature_id).first()
        )
        if signature is None or signature.status not in Signature.ACTIVE_STATUSES:
            return link_problem(
                request,
                _("This signature no longer exists. It may have been withdrawn."),
                status=410,
            )
        if signature.status == Signature.Status.CONFIRMED:
            return _redirect_to_thanks(signature)
        return render(
            request,
            "petitions/confirm.html",
            {"petition": signature.petition, "token": token},
        )
    try:
        signature = services.signature_confirm(signature_id=signature_id)
    except ValidationError as error:
        return link_problem(request, error.messages[0], status=410)
    return _redirect_to_thanks(signature)


def _redirect_to_thanks(signature):
    url = reverse("petitions:thanks", kwargs={"slug": signature.petition.slug})
    query = urlencode({"t": tokens.make_token(signature.pk, "thanks")})
    return HttpResponseRedirect(f"{url}?{query}", status=303)


@never_cache
@require_safe
def thanks(request, slug):
    petition = get_object_or_404(Petition.objects.public(), slug=slug)
    position = None
    try:
        signature_id = tokens.read_token(request.GET.get("t"), "thanks")
    except InvalidToken:
        signature_id = None
    if signature_id:
        position = (
            Signature.objects.confirmed()
            .filter(pk=signature_id, petition=petition)
            .values_list("confirmed_position", flat=True)
            .first()
        )
    share_url = f"{settings.SITE_URL}{petition.get_absolute_url()}"
    return render(
        request,
        "petitions/thanks.html",
        {
            "petition": petition,
            "position": position,
            "share_url": share_url,
            "share_text": _("I signed: %(title)s") % {"title": petition.title},
        },
    )


@cross_origin_protected
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def withdraw(request):
    signature_id, token, problem = _signature_from_token(request, "withdraw")
    if problem:
        return link_problem(request, problem)
    if request.method != "POST":
        signature = (
            Signature.objects.select_related("petition").filter(pk=signature_id).first()
        )
        already = signature is None or signature.status == Signature.Status.WITHDRAWN
        return render(
            request,
            "petitions/withdraw.html",
            {
                "petition": signature and signature.petition,
                "token": token,
                "already": already,
            },
        )
    services.signature_withdraw(signature_id=signature_id)
    return render(request, "petitions/withdrawn.html")


@cross_origin_protected
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request):
    signature_id, token, problem = _signature_from_token(request, "unsubscribe")
    if problem:
        return link_problem(request, problem)
    if request.method != "POST":
        return render(request, "petitions/unsubscribe.html", {"token": token})
    services.signature_unsubscribe(signature_id=signature_id)
    return render(request, "petitions/unsubscribed.html")


@require_safe
def petition_json(request, slug):
    # The petition comes with its paper count; the total is the sum by country.
    petition = selectors.petition_public_with_count(slug=slug)
    if petition is None:
        raise Http404
    by_country, updated_at = selectors.petition_counts_by_country(petition)
    total = sum(by_country.values())
    shown, others = selectors.public_counts_by_country(by_country)
    response = JsonResponse(
        {
            "slug": petition.slug,
            "title": petition.title,
            "state": petition.state,
            # Paper batches included; paper_signature_count says how many.
            "signature_count": total,
            "paper_signature_count": petition.paper_count,
            "goal": petition.goal_for(total),
            # The countries page's rule: small countries are counted together.
            "signatures_by_country": shown,
            "signatures_elsewhere": others,
            "updated_at": selectors.public_moment(
                updated_at or petition.updated_at
            ).isoformat(),
        }
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response
