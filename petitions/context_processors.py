"""The site banner (a surge switch) on every page."""

from django.utils.functional import SimpleLazyObject

from . import selectors


def site_banners(request):
    # Lazy: read only by templates that show it (the public base template),
    # so the admin and JSON views pay nothing.
    return {"site_banners": SimpleLazyObject(selectors.site_banners)}
