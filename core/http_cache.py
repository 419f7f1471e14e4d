"""HTTP caching headers: public pages shared by caches for a second or two,
everything personal kept out of every cache.

The public pages carry nothing per visitor (no CSRF token, no cookie; see
core.fetch_metadata), so nginx's micro-cache or a CDN can serve one copy to
everyone. The freshness promise ("a confirmed signature shows within 2 s")
bounds how long: s-maxage is PUBLIC_CACHE_SECONDS, and, as the UK Parliament
petitions site does, a cache may keep serving a copy twice that long while it
fetches a new one and five times that long while the site is down. Browsers
get max-age=0, so a signer's own next visit is never an old copy.

A response is public only if everything says it is the same for everyone:
a GET or HEAD without a session cookie or Authorization header, answered
200/301/404 without Set-Cookie, by a view that set no Cache-Control of its
own (token pages, previews and the admin use never_cache). Everything else
that did not choose is `private, no-store`: POST responses, redirects after a
form, error pages, and anything seen by a signed-in staff member.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language

PUBLIC_STATUSES = frozenset({200, 301, 404})
# For every response that is not for everyone; written whole, as nothing is
# merged into it (patch_cache_control's parsing cost the sign POST).
PERSONAL_CACHE_CONTROL = "private, no-store"


def public_cache_control(seconds: int) -> dict:
    return {
        "public": True,
        # Browsers ask again every time: someone who has just signed or
        # withdrawn sees it on their next visit. Shared caches (nginx, a CDN)
        # keep the page for `seconds`, which is where a surge is carried.
        "max_age": 0,
        "s_maxage": seconds,
        "stale_while_revalidate": 2 * seconds,
        "stale_if_error": 5 * seconds,
    }


def is_shareable(request, response) -> bool:
    return (
        request.method in {"GET", "HEAD"}
        and response.status_code in PUBLIC_STATUSES
        and not response.cookies
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "Authorization" not in request.headers
    )


def shared_page_key(path: str, language: str) -> str:
    return f"page:{settings.RELEASE}:{language}:{path}"


def shared_pages_forget(pages: list[tuple[str, str]]) -> None:
    """Drop the shared copies of these (path, language) pages, so that a
    change that must show at once (a name taken back) does not wait for
    PAGE_CACHE_SECONDS; caches in front still keep theirs for s-maxage."""
    cache.delete_many([shared_page_key(path, language) for path, language in pages])


def render_shared(
    request, template_name: str, context: Callable[[], dict]
) -> HttpResponse:
    """Render a public page, or reuse the copy rendered for anyone in the last
    PAGE_CACHE_SECONDS.

    Rendering the busiest pages costs far more than one cache read, so
    gunicorn alone survives a surge too; nginx in front then shares each
    copy for as long again, which keeps a change visible within twice the
    interval. The key is the path, language and release, never the query
    string: such pages must not depend on it (they set canonical_path), and
    `context` is only called on a miss, so it may raise Http404.
    """
    seconds = settings.PAGE_CACHE_SECONDS
    key = shared_page_key(request.path, get_language())
    html = cache.get(key) if seconds > 0 else None
    if html is None:
        html = render_to_string(template_name, context(), request)
        if seconds > 0:
            cache.set(key, html, seconds)
    return HttpResponse(html)


class CacheHeadersMiddleware:
    """Sets Cache-Control on every response whose view did not."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            if response.cookies or settings.SESSION_COOKIE_NAME in request.COOKIES:
                # A view's own "public" never applies to a personal response.
                cache_control = response["Cache-Control"]
                if "public" in cache_control:
                    response["Cache-Control"] = PERSONAL_CACHE_CONTROL
            return response
        if is_shareable(request, response):
            seconds = settings.PUBLIC_CACHE_SECONDS
            if seconds > 0:
                patch_cache_control(response, **public_cache_control(seconds))
                return response
        response["Cache-Control"] = PERSONAL_CACHE_CONTROL
        return response


class UrlLocaleMiddleware:
    """The language is the one the address names: /es/... is Spanish, every
    other path English (i18n_patterns with prefix_default_language=False).

    Django's LocaleMiddleware gives the same answer, but first weighs the
    language cookie and Accept-Language header on every request, only to
    discard them for any unprefixed path, and it marks those pages
    `Vary: Accept-Language`, which would split every cache by each browser's
    language list.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        translation.activate(
            translation.get_language_from_path(request.path_info)
            or settings.LANGUAGE_CODE
        )
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
