"""Redaction of secrets in stored configuration (audit rows) and in free text (log lines).

:func:`redact` is conservative: at any depth it hides the value of every key that names a
secret (``password``, ``secret``, ``token``, ``api_key``, ``routing_key``, ``authorization``,
credentials, private keys), every value under ``headers`` and ``env`` (the names stay, so a
reader sees *which* header was set), the whole ``url`` of a Slack or Microsoft Teams webhook
(its path is the credential), and the user-info and query string of any other URL. A bearer
token (``vgl_...``) inside any string is hidden too. :func:`scrub_text` does the same for a line
of text (``Authorization:`` values, ``Bearer`` tokens, URL secrets).

The per-channel secret declarations of the secrets work will replace the key heuristics here;
``redact(kind, data)`` keeps its signature.

>>> redact("subscription", {"protocol": "webhook", "config": {"url": "https://u:pw@h/x?k=v",
...     "headers": {"X-Key": "abc"}, "secret": "s"}})["config"]
{'url': 'https://***@h/x?***', 'headers': {'X-Key': '***'}, 'secret': '***'}
>>> redact("subscription", {"protocol": "slack", "config": {"url": "https://hooks.slack.com/T/B/C"}})
{'protocol': 'slack', 'config': {'url': '***'}}
>>> scrub_text("GET /x Authorization: Bearer vgl_abc123 from https://me:pw@h/p?token=1")
'GET /x Authorization: *** from https://***@h/p?***'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MASK", "redact", "redact_value", "scrub_text"]

MASK = "***"

# Keys whose value is a secret wherever they appear (compared lower-cased, "-" read as "_").
_SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "routing_key",
    "integration_key",
    "authorization",
    "credential",
    "private_key",
    "access_key",
    "signing_key",
)
# Keys whose every value is hidden, the keys kept: request headers, process environments.
_MAPPING_KEYS = ("headers", "env", "environment")
# Channels whose URL is itself the credential.
_URL_IS_SECRET = ("slack", "teams", "msteams")
_URL_KEYS = ("url", "webhook_url", "webhook")
_SECRET_HOSTS = ("hooks.slack.com", "webhook.office.com", ".logic.azure.com")

_BEARER = re.compile(r"vgl_[A-Za-z0-9_\-]+")
_AUTH_HEADER = re.compile(
    r"(?i)(\bauthorization\b[\"']?\s*[:=]\s*[\"']?)(?:bearer\s+|basic\s+|token\s+)?[^\s\"',;}]+"
)
_BEARER_WORD = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@\"'<>]+@")
_URL_QUERY = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^\s?\"'<>]*)\?[^\s#\"'<>]*")


@functools.lru_cache(maxsize=4096)
def _is_secret_key(key: str) -> bool:
    k = key.lower().replace("-", "_")
    return any(word in k for word in _SECRET_WORDS)


def _url_is_secret(kind: str, url: str) -> bool:
    if kind.lower() in _URL_IS_SECRET:
        return True
    host = url.split("://", 1)[-1].split("/", 1)[0].lower()
    return any(host.endswith(h.lstrip(".")) for h in _SECRET_HOSTS)


def scrub_text(text: str) -> str:
    """``text`` with bearer tokens, ``Authorization`` values and URL user-info and query
    strings replaced by ``***``."""
    if text.isascii():  # each pattern needs one of these words: most lines have none
        low = text.lower()
        if (
            "://" not in text
            and "vgl_" not in text
            and "authorization" not in low
            and "bearer" not in low
            and "basic" not in low
        ):
            return text
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)
    text = _BEARER_WORD.sub(MASK, text)
    text = _BEARER.sub(MASK, text)
    text = _URL_USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    return _URL_QUERY.sub(lambda m: m.group(1) + "?" + MASK, text)


def redact_value(kind: str, value: Any) -> Any:
    """``value`` (any JSON-like structure) with its secrets hidden; ``kind`` is the object's
    kind or channel (``slack``, ``webhook``, ``subscription``...)."""
    if isinstance(value, str):  # the common cases first: a Mapping check is an ABC's
        return scrub_text(value)
    if isinstance(value, (int, float)) or value is None:
        return value
    if isinstance(value, Mapping):
        return redact(kind, value)
    if isinstance(value, (list, tuple)):
        return [redact_value(kind, v) for v in value]
    return value


def redact(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with every secret replaced by ``***``, at any depth.

    ``kind`` names the object or channel; a nested mapping with a ``protocol`` or ``type``
    (a subscription, an action target) is redacted as that channel.
    """
    here = str(data.get("protocol") or data.get("type") or kind)
    out: dict[str, Any] = {}
    for key, value in data.items():
        k = str(key)
        if value is None or isinstance(value, bool):
            out[k] = value
        elif _is_secret_key(k):
            out[k] = MASK
        elif (low := k.lower()) in _MAPPING_KEYS:
            out[k] = {str(n): MASK for n in value} if isinstance(value, Mapping) else MASK
        elif low in _URL_KEYS and isinstance(value, str) and _url_is_secret(here, value):
            out[k] = MASK
        else:
            out[k] = redact_value(here, value)
    return out
