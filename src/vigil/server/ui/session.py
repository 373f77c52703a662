"""Dashboard sign-in: an API token exchanged for a session cookie, and CSRF protection.

``POST /signin`` takes a token once and answers with the cookie ``vigil_session``: HttpOnly
(no script reads it), ``SameSite=Strict`` (no other site's page sends it), ``Secure`` when the
request came over HTTPS (or ``VIGIL_PUBLIC_URL`` is ``https://``), ``Path=/``, valid for
:data:`SESSION_HOURS`. Its value is the token's SHA-256 hash and an expiry, encrypted and
authenticated with the installation's secret key (Fernet: ``secret.key`` or
``$VIGIL_SECRET_KEY``), so every server sharing the database accepts it and nobody can forge
or read one. The token itself is looked up again on every page (by that hash), so a revoked
token signs its sessions out at once, and its scopes decide what the page offers.

Every form carries a CSRF field: an HMAC of the session cookie's value (which another site
cannot read), checked on every ``POST`` together with the ``Origin`` header where a browser
sends one.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from sqlalchemy import select

from vigil.errors import VigilError
from vigil.server import auth
from vigil.server.state import get_state
from vigil.store.models import ApiToken
from vigil.store.secrets import box_of

COOKIE = "vigil_session"
SESSION_HOURS = 12
CSRF_FIELD = "csrf"


class SignInRequiredError(VigilError, PermissionError):
    """No valid session: the handler answers 303 to ``/signin?next=<this page>``."""

    code = "sign_in_required"

    def __init__(self, next_path: str) -> None:
        super().__init__(f"sign in to see {next_path}")
        self.next_path = next_path


class CsrfRejectedError(VigilError, PermissionError):
    """A form came without a valid CSRF field, or from another origin (answered 403)."""

    code = "csrf_rejected"


class ScopeRefusedError(VigilError, PermissionError):
    """A form that changes something, from a session whose token lacks ``write`` (403)."""

    code = "scope_refused"


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the token's name, its scopes (with what they imply), the CSRF value."""

    name: str
    scopes: frozenset[str]
    csrf: str

    def can(self, scope: str) -> bool:
        """Whether the token holds ``scope`` (``read``, ``ingest``, ``write``, ``admin``)."""
        return scope in self.scopes


def session_value(request: Request, secret: str, now: float | None = None) -> str | None:
    """The cookie value for ``secret``, or None when the token is unknown or revoked; a token
    without the ``read`` scope (an ingest-only one) is refused (:class:`ScopeRefusedError`)
    rather than signed in to a dashboard it could not see."""
    state = get_state(request)
    found = state.tokens.lookup(secret)  # the cache every request uses: same answer
    if found is None:
        return None
    name, scopes = found
    if "read" not in auth.expand_scopes(scopes.split(",")):
        raise ScopeRefusedError(f"token {name!r} lacks the 'read' scope the dashboard needs")
    expires = (now or time.time()) + SESSION_HOURS * 3600
    return box_of(state.db).seal_value({"h": auth.hash_secret(secret), "e": expires})


def csrf_for(cookie_value: str) -> str:
    """The CSRF field of the session whose cookie is ``cookie_value``."""
    return hmac.new(cookie_value.encode(), b"vigil-csrf", hashlib.sha256).hexdigest()[:32]


def _token_by_hash(request: Request, digest: str) -> tuple[str, str] | None:
    state = get_state(request)
    with state.db.engine.connect() as conn:
        row = conn.execute(
            select(ApiToken.name, ApiToken.scopes).where(
                ApiToken.token_hash == digest, ApiToken.revoked.is_(False)
            )
        ).first()
    return (row.name, row.scopes) if row is not None else None


def viewer_of(request: Request) -> Viewer | None:
    """The signed-in viewer of this request, or None (no cookie, expired, revoked, forged)."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        doc, _ = box_of(get_state(request).db).open_value(value)
    except Exception:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("h"), str):
        return None
    expires = doc.get("e")
    if not isinstance(expires, (int, float)) or expires < time.time():
        return None
    found = _token_by_hash(request, doc["h"])
    if found is None:
        return None
    name, scopes = found
    return Viewer(name, frozenset(auth.expand_scopes(scopes.split(","))), csrf_for(value))


def this_path(request: Request) -> str:
    """The request's path and query, to come back to after signing in."""
    path = request.url.path
    return path + (f"?{request.url.query}" if request.url.query else "")


def require_viewer(request: Request) -> Viewer:
    """A page dependency: the signed-in viewer with the ``read`` scope, else a redirect to
    the sign-in page that comes back here."""
    viewer = viewer_of(request)
    if viewer is None or not viewer.can("read"):
        raise SignInRequiredError(this_path(request))
    return viewer


def signin_url(next_path: str) -> str:
    """``/signin?next=...`` for a path on this server."""
    return "/signin?next=" + quote(safe_next(next_path), safe="/")


def safe_next(next_path: str | None) -> str:
    """``next_path`` when it is a path on this server, else ``/``: a sign-in link never
    sends the browser to another site (``//evil``, ``https://evil``, ``/\\evil``)."""
    if not next_path or not next_path.startswith("/") or next_path.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(next_path)
    if parts.scheme or parts.netloc:
        return "/"
    return next_path


def foreign_origin(request: Request) -> str | None:
    """The ``Origin`` a browser sent when it is another site's, else None (none sent, or
    ``null``, or this server's own)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return None
    return None if origin.rstrip("/") == f"{request.url.scheme}://{request.url.netloc}" else origin


def check_csrf(request: Request, viewer: Viewer, form: Any) -> None:
    """Refuse a form whose CSRF field is not this session's, or whose ``Origin`` is another
    site's (:class:`CsrfRejectedError`, answered 403)."""
    given = form.get(CSRF_FIELD) if form is not None else None
    if not isinstance(given, str) or not hmac.compare_digest(given, viewer.csrf):
        raise CsrfRejectedError("the form's CSRF field is missing or is not this session's")
    origin = foreign_origin(request)
    if origin is not None:
        raise CsrfRejectedError(f"the form came from {origin}, not from this server")


async def write_form(request: Request, viewer: Viewer, doing: str) -> Any:
    """The POSTed form of a change (``doing``: "silencing an alarm"), after its CSRF check
    and the ``write`` scope's (:class:`ScopeRefusedError`, answered 403)."""
    form = await request.form()
    check_csrf(request, viewer, form)
    if not viewer.can("write"):
        raise ScopeRefusedError(f"token {viewer.name!r} lacks the 'write' scope for {doing}")
    return form


def is_secure(request: Request) -> bool:
    """Whether the cookie must be ``Secure``: HTTPS, or a public URL that is HTTPS."""
    public = get_state(request).settings.public_url
    return request.url.scheme == "https" or public.startswith("https://")
