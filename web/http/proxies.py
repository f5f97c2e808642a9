"""Which client a request comes from when reverse proxies stand in front of the server.

A proxy's X-Forwarded-For is believed only when the peer is one of `JAXABOT_TRUSTED_PROXIES`;
then the client is the hop right of the last trusted proxy in it (each proxy appends the address it
got the request from, so everything left of that hop is whatever the client chose to send).
`jaxabot serve` hands the same list to uvicorn (`forwarded_allow_ips`), so its log and
`request.client` agree; without trusted proxies uvicorn's proxy headers are off altogether.
"""

import ipaddress
from collections.abc import Iterable, Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: Address, networks: Sequence[Network]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in n for n in networks)


def client_address(peer: str | None, forwarded_for: Iterable[str], networks: Sequence[Network]) -> str:
    """The request's client: the peer, or when the peer is a trusted proxy, the X-Forwarded-For hop
    right of the last trusted one (the leftmost if all are trusted; a hop that is no address stops
    the walk at the trusted proxy right of it)."""
    if peer is None:
        return "unknown"
    peer_address = _address(peer)
    if peer_address is None or not networks or not _trusted(peer_address, networks):
        return peer
    hops = [h for value in forwarded_for for h in value.split(",") if h.strip()]
    chosen = peer_address
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        chosen = address
        if not _trusted(address, networks):
            break
    return str(chosen)


def rate_key(address: str) -> str:
    """What a per-client limit counts by: an IPv4 address, or an IPv6 address's /64 (one site's
    or host's allocation: a client changing the low bits is still one client)."""
    parsed = _address(address)
    if parsed is None:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def uvicorn_options(networks: Sequence[Network]) -> dict:
    """uvicorn's proxy settings for these trusted proxies (its default trusts 127.0.0.1)."""
    if not networks:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": [str(n) for n in networks]}
