"""URL normalisation for ``canonical_url``."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

__all__ = ["canonical_url"]

_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "vero_", "_hs")
_TRACKING = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "twclid", "ttclid",
    "mkt_tok", "_ga", "_gl", "ocid", "cmpid", "ncid", "sr_share", "smid", "cid", "ito", "ref_src", "spm",
}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str | None, declared: str | None = None) -> str | None:
    """Normalised URL: the page's rel=canonical/og:url (resolved against the
    URL) when it has one; lower-case scheme and host, no default port, no
    fragment, no tracking parameters. None for non-HTTP(S) or missing URLs."""
    base = url or None
    cand = declared.strip() if declared and declared.strip() else None
    if cand:
        cand = urljoin(base, cand) if base else cand
    target = cand or base
    if not target:
        return None
    try:
        parts = urlsplit(target.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None if cand is None else canonical_url(url)
    host = parts.hostname.lower().rstrip(".")
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in _TRACKING and not k.lower().startswith(_TRACKING_PREFIXES)]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query, doseq=True), ""))
