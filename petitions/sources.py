"""Where a signature came from, first-party: `?source=` or `?utm_source=`.

The petition page is the same for every visitor (it is cached whole, see
core.http_cache), so the page never writes the visitor's query string into
the form. Instead static/js/source.js copies it into the form's hidden
`source` field in the browser; without script, the sign view reads it from the
Referer, which the browser sends with the form's POST because the site's
Referrer-Policy is same-origin (settings.SECURE_REFERRER_POLICY). No cookie,
no third party: the label is stored on the signature and nowhere else.
"""

from urllib.parse import parse_qs, urlsplit

from . import validators

# In order of preference, as source.js reads them.
SOURCE_PARAMETERS = ("source", "utm_source")


def source_from_query(query: str) -> str:
    """The first non-empty source parameter of a query string, folded."""
    values = parse_qs(query)
    for name in SOURCE_PARAMETERS:
        for value in values.get(name, []):
            if cleaned := validators.clean_source(value):
                return cleaned
    return ""


def source_for_request(request, posted: str = "") -> str:
    """The posted source, else the one in a same-origin Referer's query string."""
    if cleaned := validators.clean_source(posted):
        return cleaned
    referer = request.META.get("HTTP_REFERER")
    if not referer:
        return ""
    page = urlsplit(referer)
    if page.netloc != request.get_host():
        # Another site's address says nothing we asked for, and could be anything.
        return ""
    return source_from_query(page.query)
