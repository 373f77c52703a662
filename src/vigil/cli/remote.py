"""The CLI as a client of a Vigil server: ``vigil --server URL`` (or ``$VIGIL_SERVER``) with
``--token`` (or ``$VIGIL_TOKEN``) runs a command against the server's REST API (``/api/v1``)
instead of a local data directory.

:func:`selected` says whether a server was chosen for this invocation; :class:`Remote` calls
it and turns every failure into a :class:`RemoteError` of one line: the server cannot be
reached, the token is missing or refused (401), it lacks a scope (403, the API's own words),
or any other refusal (the API's message). :func:`refuse_remote` is what commands that work on
a local installation only call first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from vigil.cli.common import fail
from vigil.cli.lazy import click
from vigil.errors import VigilError

#: where the root group keeps the chosen server (``ctx.meta`` is shared by every context)
META_KEY = "vigil.remote"
API_PREFIX = "/api/v1"


class RemoteError(VigilError):
    """A call to the Vigil server failed: unreachable, refused, or an unexpected answer."""

    code = "remote_error"

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RemoteSpec:
    """The server this invocation talks to, and how it was chosen."""

    url: str  # as given
    token: str | None
    given_by: str  # "--server" or "$VIGIL_SERVER"


def choose(ctx: click.Context, url: str | None, token: str | None) -> None:
    """Record the root group's ``--server``/``--token`` (or their variables) for the command."""
    if not url or not url.strip():
        ctx.meta.pop(META_KEY, None)
        return
    source = ctx.get_parameter_source("server")
    env = source is not None and source.name == "ENVIRONMENT"
    given_by = "$VIGIL_SERVER" if env else "--server"
    ctx.meta[META_KEY] = RemoteSpec(url.strip(), token or None, given_by)


def chosen() -> RemoteSpec | None:
    """The root group's ``--server``/``--token`` for this invocation, if a server was chosen."""
    ctx = click.globals.get_current_context(silent=True)
    if ctx is None:
        return None
    spec = ctx.meta.get(META_KEY)
    return spec if isinstance(spec, RemoteSpec) else None


def selected() -> Remote | None:
    """The server chosen for this invocation (a client for it), or ``None``: work locally.
    A URL that is not one exits 2 with one line."""
    spec = chosen()
    if spec is None:
        return None
    try:
        return Remote(spec)
    except VigilError as exc:
        raise fail(exc.message) from None


def refuse_remote(command: str, why: str = "it works on a local data directory only") -> None:
    """Raise a :class:`RemoteError` when a server was chosen: ``command`` cannot run on one."""
    spec = chosen()
    if spec is not None:
        raise RemoteError(
            f"'{command}' does not run against a server ({spec.given_by} {spec.url}): {why}; "
            + (
                "unset $VIGIL_SERVER"
                if spec.given_by == "$VIGIL_SERVER"
                else "drop --server"
            )
            + " and give --data-dir (or $VIGIL_DATA_DIR)"
        )


def path(*parts: str) -> str:
    """An API path from parts, each one URL-encoded (names may hold any character)."""
    return "/" + "/".join(quote(p, safe="") for p in parts)


class Remote:
    """One server's REST API, with one token (each call one request)."""

    def __init__(self, spec: RemoteSpec, *, timeout: float = 30.0) -> None:
        # lazy: the URL check lives with the agent's client, httpx only for remote commands
        from vigil.agent.push import server_root

        self.spec = spec
        self.root = server_root(spec.url)
        self.timeout = timeout

    @property
    def where(self) -> str:
        """``the server at URL (--server)``, for messages."""
        return f"the server at {self.root} ({self.spec.given_by})"

    def get(self, api_path: str, params: Mapping[str, Any] | None = None) -> Any:
        """``GET /api/v1{api_path}``: the answer's JSON."""
        return self.call("GET", api_path, params=params)

    def post(self, api_path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """``POST /api/v1{api_path}`` with a JSON body: the answer's JSON."""
        return self.call("POST", api_path, params=params, body=body)

    def delete(self, api_path: str) -> Any:
        """``DELETE /api/v1{api_path}``: the answer's JSON (``None`` for 204)."""
        return self.call("DELETE", api_path)

    def call(
        self,
        method: str,
        api_path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """One request; a :class:`RemoteError` of one line for anything but a 2xx answer."""
        import httpx  # lazy: only remote commands use the HTTP client

        headers = {"Accept": "application/json"}
        if self.spec.token:
            headers["Authorization"] = f"Bearer {self.spec.token}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        url = self.root + API_PREFIX + api_path
        try:
            response = httpx.request(
                method,
                url,
                params=query,
                json=body,
                headers=headers,
                timeout=self.timeout,
                follow_redirects=False,
            )
        except httpx.TimeoutException:
            raise RemoteError(
                f"cannot reach {self.where}: no answer in {self.timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise RemoteError(f"cannot reach {self.where}: {reason}") from None
        if response.is_success:
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise RemoteError(
                    f"{self.where} answered {method} {API_PREFIX}{api_path} with something that "
                    "is not JSON: is it a Vigil server?",
                    response.status_code,
                ) from None
        raise self._refusal(method, api_path, response.status_code, _message(response))

    def _refusal(self, method: str, api_path: str, status: int, said: str | None) -> RemoteError:
        if status == 401:
            if not self.spec.token:
                return RemoteError(
                    f"{self.where} needs a token: give one with --token or $VIGIL_TOKEN "
                    f"(401: {said or 'unauthorized'})",
                    status,
                )
            return RemoteError(
                f"{self.where} refused the token (401: {said or 'unauthorized'}): check "
                "--token or $VIGIL_TOKEN",
                status,
            )
        if status == 403:
            return RemoteError(f"forbidden (403): {said or 'the token lacks a scope'}", status)
        if said is None:
            return RemoteError(
                f"{self.where} answered {method} {API_PREFIX}{api_path} with HTTP {status}: "
                "is it a Vigil server?",
                status,
            )
        return RemoteError(said if status < 500 else f"server error ({status}): {said}", status)


def _message(response: Any) -> str | None:
    """The API's ``{"error": {"message"}}`` (or FastAPI's ``detail``) as one line."""
    try:
        doc = response.json()
    except ValueError:
        return None
    if isinstance(doc, dict):
        error = doc.get("error")
        if isinstance(error, dict) and error.get("message"):
            return " ".join(str(error["message"]).split())
        if "detail" in doc:
            return " ".join(str(doc["detail"]).split())
    return None
