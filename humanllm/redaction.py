"""One place that takes secrets out of anything shown or saved: URLs, error text, logs.

Standard library only, so the CLI can redact its output without importing the model stack.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "***"
_SECRET_QUERY_KEYS = frozenset({"api_key", "apikey", "key", "token", "access_token", "auth", "secret", "password"})
_KEY_SHAPES = re.compile(
    r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{8,}|hf_[A-Za-z0-9]{16,}|gsk_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_\-]{20,})"
)
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """The URL without userinfo and without secret-looking query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text_keys(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs], safe="*")
    return redact_text_keys(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def redact_text_keys(text: str) -> str:
    """Text with known API-key shapes masked."""
    return _KEY_SHAPES.sub(REDACTED, text)


def redact(text: str) -> str:
    """Any text (an error, a log line) with URLs redacted and key shapes masked."""
    return redact_text_keys(_URL.sub(lambda m: redact_url(m.group(0)), text))
