"""The client's IP address, as far as we can trust it.

X-Forwarded-For is written by whoever sends the request, so only the entries
appended by our own proxies are believed: with TRUSTED_PROXY_COUNT = n, the
client is the n-th address from the right. With 0 (the default) the header is
ignored and REMOTE_ADDR is the client.
"""

from django.conf import settings


def client_ip(request) -> str:
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxy_count = settings.TRUSTED_PROXY_COUNT
    if proxy_count <= 0:
        return remote_addr
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < proxy_count:
        # Fewer hops than proxies we run: the request bypassed them.
        return remote_addr
    return forwarded[-proxy_count]


def client_ip_for_axes(request, *args, **kwargs) -> str:
    return client_ip(request)
