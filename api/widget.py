"""The embeddable sign widget: a small page partners show in an <iframe>.

It works without script and without cookies. Django's CSRF protection needs
a cookie, which a third-party frame may not get (browsers block them), so the
sign POST is exempt from it and checks Fetch Metadata instead: a form in our
own frame posts to our own origin ("Sec-Fetch-Site: same-origin"); a form on
another site posting here is refused. Only these views may be framed: their
responses replace CSP's frame-ancestors with WIDGET_FRAME_ANCESTORS and skip
X-Frame-Options; every other page keeps DENY.
"""

from functools import wraps

from csp.decorators import csp_replace
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_POST, require_safe

from core.client_ip import client_ip
from core.fetch_metadata import cross_origin_protected
from core.forms import form_add_validation_error
from petitions import ratelimit, selectors, services, validators
from petitions.models import Petition

from .forms import WidgetSignatureForm

# Sources are at most 64 characters; leave room for "widget-".
PARTNER_MAX_LENGTH = 48


def frameable(view):
    """Let partners' pages frame this view (and nothing else)."""

    @xframe_options_exempt
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        ancestors = list(settings.WIDGET_FRAME_ANCESTORS)
        return csp_replace({"frame-ancestors": ancestors})(view)(
            request, *args, **kwargs
        )

    return wrapped


def partner_label(request) -> str:
    data = request.POST if request.method == "POST" else request.GET
    return validators.clean_source(data.get("partner", ""))[:PARTNER_MAX_LENGTH]


def widget_source(partner: str) -> str:
    return validators.clean_source(f"widget:{partner}" if partner else "widget")


def _render(request, petition, *, form=None, partner="", message="", status=200):
    refusal = services.petition_signing_refusal(petition)
    context = {
        "petition": petition,
        "partner": partner,
        "goal": petition.goal_for(petition.signature_count),
        "accepting_signatures": refusal is None,
        "refusal_message": refusal,
        "message": message,
        "form": form or WidgetSignatureForm(),
        "petition_url": f"{settings.SITE_URL}{petition.get_absolute_url()}",
    }
    return render(request, "petitions/widget.html", context, status=status)


@frameable
@require_safe
def widget(request, slug):
    petition = selectors.petition_public_with_count(slug=slug)
    if petition is None:
        raise Http404
    return _render(request, petition, partner=partner_label(request))


@frameable
@cross_origin_protected(template="petitions/widget_refused.html")
@require_POST
def widget_sign(request, slug):
    petition = selectors.petition_public_with_count(slug=slug)
    if petition is None:
        raise Http404
    partner = partner_label(request)
    if not petition.is_accepting_signatures():
        return _render(request, petition, partner=partner, status=403)
    ip_hash = ratelimit.request_ip_hash(request)
    wait = ratelimit.hit(scope="sign", client=ip_hash, limits=ratelimit.sign_limits())
    if wait is not None:
        message = ratelimit.signing_paused_message(wait)
        response = _render(
            request, petition, partner=partner, message=message, status=429
        )
        response["Retry-After"] = str(wait)
        return response
    form = WidgetSignatureForm(request.POST)
    sent = HttpResponseRedirect(
        reverse("widget:sent", kwargs={"slug": petition.slug}), status=303
    )
    if form.is_bot:
        return sent
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.signature_create(
                petition=petition,
                full_name=data["full_name"],
                email=data["email"],
                country=data["country"],
                name_withheld=data["name_withheld"],
                ip_hash=ip_hash,
                client_ip=client_ip(request),
                source=widget_source(partner),
            )
        except ValidationError as error:
            if error.code == "paused":
                # The form gives way to the surge switch's message.
                return _render(request, petition, partner=partner, status=503)
            form_add_validation_error(form, error)
        else:
            return sent
    return _render(request, petition, form=form, partner=partner, status=400)


@frameable
@require_safe
def widget_sent(request, slug):
    petition = Petition.objects.public().filter(slug=slug).first()
    if petition is None:
        raise Http404
    return render(request, "petitions/widget_sent.html", {"petition": petition})


def widget_snippets(petition: Petition) -> list[tuple[str, str]]:
    """(language name, HTML to paste) for each language, for the admin."""
    snippets = []
    for code, name in settings.LANGUAGES:
        # The language's name in the admin user's language, the rest in its own.
        label_for_admin = str(name)
        with translation.override(code):
            src = f"{settings.SITE_URL}{reverse('widget:widget', args=[petition.slug])}"
            src = f"{src}?{urlencode({'partner': 'your-organisation'})}"
            page = f"{settings.SITE_URL}{petition.get_absolute_url()}"
            label = _("Sign the petition: %(title)s") % {"title": petition.title}
            snippets.append(
                (
                    label_for_admin,
                    format_html(
                        '<iframe src="{}" title="{}" width="100%" height="640" '
                        'loading="lazy"><a href="{}">{}</a></iframe>',
                        src,
                        label,
                        page,
                        label,
                    ),
                )
            )
    return snippets
