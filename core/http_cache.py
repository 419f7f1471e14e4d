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
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language

PUBLIC_STATUSES = frozenset({200, 301, 404})


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

    The busiest pages cost ~10 ms to render and a copy costs one cache read,
    so gunicorn alone survives a surge too; nginx in front then shares each
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
                    del response["Cache-Control"]
                    patch_cache_control(response, private=True, no_store=True)
            return response
        if is_shareable(request, response):
            seconds = settings.PUBLIC_CACHE_SECONDS
            if seconds > 0:
                patch_cache_control(response, **public_cache_control(seconds))
                return response
        patch_cache_control(response, private=True, no_store=True)
        return response


class UrlLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware without `Vary: Accept-Language`.

    With i18n_patterns(prefix_default_language=False) Django takes the
    language from the URL alone (/es/... or English), and never from the
    Accept-Language header, yet still marks unprefixed pages as varying on
    it, which splits every cache by each browser's language list.
    """

    def process_response(self, request, response):
        response = super().process_response(request, response)
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        i18n_patterns_used, prefixed_default = is_language_prefix_patterns_used(urlconf)
        if i18n_patterns_used and not prefixed_default and response.has_header("Vary"):
            kept = [
                value.strip()
                for value in response["Vary"].split(",")
                if value.strip().lower() != "accept-language"
            ]
            if kept:
                response["Vary"] = ", ".join(kept)
            else:
                del response["Vary"]
        return response
