"""Petition pages, rendered once and shared through the database cache.

A surge hits the petition page and the home page. Rendering them through the
template engine costs several milliseconds, which caps a 2-core host at a few
hundred pages a second. Everything on them is the same for every visitor
except two parts: the CSRF token and the live count. So the page is rendered
once with placeholders for those two, kept in the shared cache (PostgreSQL,
never process memory) for SHELL_TIMEOUT seconds, and each request fills in the
token and the count, which is read fresh from the count rows every time.

The key holds the petition's `updated_at`, the language and the release, so an
edit in the admin or a deploy shows at once; a public signer who withdraws or
is invalidated drops out at once too (`petition_shells_forget`); other changes
(a new public signer, a news entry on the home page) show within SHELL_TIMEOUT.
"""

import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from core.context_processors import site

from . import services
from .forms import SignatureForm
from .models import Petition

SHELL_TIMEOUT = 30
# Indentation and blank lines between tags, which the form templates produce
# in bulk; one newline keeps the same rendering in a third fewer bytes.
_BLANK_LINES = re.compile(r">\s*\n\s*<")
CSRF_PLACEHOLDER = "__csrf_token_placeholder__"
PROGRESS_PLACEHOLDER = "<!--signature-progress-->"


def progress_html(count: int, goal: int, paper: int = 0) -> str:
    """The count (paper batches included), the progress bar, and, when some
    signatures are on paper, how the total divides."""
    split = ""
    if paper:
        split = format_html(
            '<p class="small mb-1 count-split">{}</p>',
            ngettext(
                "%(online)s online and %(paper)s on paper",
                "%(online)s online and %(paper)s on paper",
                paper,
            )
            % {"online": intcomma(count - paper), "paper": intcomma(paper)},
        )
    return format_html(
        '<div class="petition-progress">'
        '<p class="signature-count mb-1">'
        '<strong class="count-number">{}</strong> {}</p>{}'
        '<progress class="signature-progress" max="{}" value="{}" aria-label="{}">'
        "{} / {}</progress>"
        '<p class="small mb-0">{}</p></div>',
        intcomma(count),
        ngettext("signature", "signatures", count),
        split,
        goal,
        count,
        _("Progress toward the goal"),
        count,
        goal,
        _("Help us reach %(goal)s.") % {"goal": intcomma(goal)},
    )


def petition_context(petition: Petition, form: SignatureForm | None = None) -> dict:
    """What any page showing a petition needs, apart from the live count."""
    return {
        "petition": petition,
        "accepting_signatures": petition.is_accepting_signatures(),
        "refusal_message": services.petition_refusal_message(petition),
        "public_signers": list(
            petition.signatures.shown_publicly()
            .order_by("-confirmed_at")
            .only("full_name", "country", "petition_id")[:5]
        ),
        "form": form or SignatureForm(),
    }


def live_progress(petition: Petition) -> str:
    """The count and progress bar, fresh: from `signature_count` and
    `paper_count` when the view fetched the petition with them, else with one
    query."""
    count = getattr(petition, "signature_count", None)
    paper = getattr(petition, "paper_count", None)
    if count is None or paper is None:
        count, paper = services.petition_signature_and_paper_counts(petition)
    return progress_html(count, petition.goal_for(count), paper)


SHELL_SCOPES = ("detail", "home")


def _shell_key(scope: str, petition_pk: int, updated_at, language: str) -> str:
    return (
        f"shell:{scope}:{petition_pk}:{updated_at.timestamp()}:"
        f"{language}:{settings.RELEASE}"
    )


def petition_shells_forget(*, petition_ids) -> None:
    """Drop the cached pages of these petitions, so that a signer who withdrew
    or was invalidated leaves the public list at once, not after SHELL_TIMEOUT."""
    keys = [
        _shell_key(scope, pk, updated_at, language)
        for pk, updated_at in Petition.objects.filter(pk__in=petition_ids).values_list(
            "pk", "updated_at"
        )
        for scope in SHELL_SCOPES
        for language, _name in settings.LANGUAGES
    ]
    cache.delete_many(keys)


def render_petition_page(
    request,
    *,
    template_name: str,
    petition: Petition,
    scope: str,
    extra_context: Callable[[], dict] = dict,
) -> HttpResponse:
    """The page for a plain GET: a cached shell with the token and count filled in."""
    key = _shell_key(scope, petition.pk, petition.updated_at, get_language())
    html = cache.get(key)
    if html is None:
        context = {
            **site(request),
            "request": request,
            # Shared by every visitor: never the query string of the first one.
            "canonical_path": request.path,
            **petition_context(petition),
            **extra_context(),
            "csrf_token": CSRF_PLACEHOLDER,
            "progress_html": PROGRESS_PLACEHOLDER,
        }
        html = _BLANK_LINES.sub(">\n<", render_to_string(template_name, context))
        cache.set(key, html, SHELL_TIMEOUT)
    html = html.replace(CSRF_PLACEHOLDER, get_token(request), 1)
    html = html.replace(PROGRESS_PLACEHOLDER, live_progress(petition), 1)
    return HttpResponse(html)
