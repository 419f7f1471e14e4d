"""The client's IP address, as far as we can trust it, and the key limits use.

X-Forwarded-For is written by whoever sends the request, so only the entries
appended by our own proxies are believed: with TRUSTED_PROXY_COUNT = n, the
client is the n-th address from the right. With 0 (the default) the header is
ignored and REMOTE_ADDR is the client.

Everything that keys on a client (the sign, widget and subscribe limits, the
admin lock-out, the fraud watch's IP hashes) uses `client_key`: an IPv4
address as it is, an IPv6 address as its /64. One home or phone line is
given a whole /64, so keying on the full address would hand anyone on it
billions of fresh limits.
"""

import ipaddress

from django.conf import settings

IPV6_CLIENT_PREFIX = 64


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


def client_network(ip: str) -> str:
    """The key of one client: an IPv4 address, or an IPv6 address's /64
    (written as the /64's first address).

    An IPv4 address written in IPv6 form (::ffff:192.0.2.1, as a dual-stack
    socket reports it) is the IPv4 client it names. Something that is not an
    address (a proxy's mistake) is kept as it is, so it still has a limit.
    """
    try:
        address = ipaddress.ip_address(ip.strip().split("%", 1)[0])
    except ValueError:
        return ip
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False)
        # The network's first address rather than "…/64": still an address,
        # which django-axes stores in an IP address column.
        return str(network.network_address)
    return str(address)


def client_key(request) -> str:
    return client_network(client_ip(request))


def client_ip_for_axes(request, *args, **kwargs) -> str:
    # django-axes stores and compares this string: the /64 locks out the line.
    return client_key(request)
