"""Monitoring as code over the API: ``POST /config/plan`` and ``POST /config/apply`` take a
``vigil.yaml`` (JSON ``{"yaml": "...", "source": "vigil.yaml"}``) and answer the plan as
``vigil apply --output json`` prints it; ``GET /config/export`` gives the catalog back as a
``vigil.yaml`` (``vigil --server URL apply|export``).

The file is treated as hostile, as each object's own route treats it: both need ``write``;
a workflow or rule with a command or Python target, or a schedule with a preprocessor or a
model file, needs ``admin`` and the code policy (:mod:`vigil.server.code_checks`, for what
the file creates or changes); baseline paths and capture URIs must lie in the allowed roots
(relative ones start at the data directory, as ``POST /baselines`` reads them); an
``${env:NAME}`` secret reference is refused (the server's environment is not the caller's);
secrets given are sealed. Whatever is refused is refused before anything changes. The export
writes each secret as its ``${env:NAME}`` reference or ``***``, never as itself.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from vigil.app.catalog import apply_config, current_config, plan_config
from vigil.app.config import Plan, VigilConfig, dump_config, parse_config, plan_document
from vigil.errors import ConfigError, FormatError
from vigil.server.code_checks import check_rule, check_schedule, check_workflow
from vigil.server.errors import ApiError
from vigil.server.schemas_common import errors
from vigil.server.state import READ, WRITE, ServerState, get_state

router = APIRouter(responses=errors(401, 403, 422))

YAML_TYPE = "application/yaml"
#: the most YAML values a file sent to the server may hold once its aliases are expanded
MAX_VALUES = 200_000


class ConfigIn(BaseModel):
    """A ``vigil.yaml`` as text, and the name its error messages give it."""

    yaml: str = Field(description="The vigil.yaml file's text.")
    source: str = Field(
        default="vigil.yaml",
        max_length=200,
        description="What error messages call the file (``vigil.yaml:3: ...``).",
    )


class ConfigOut(BaseModel):
    """The catalog as a ``vigil.yaml`` (secrets as ``${env:NAME}`` references or ``***``)."""

    yaml: str


class ChangeOut(BaseModel):
    """One change of a plan: a resource to create, or to update (the fields that differ)."""

    action: Literal["create", "update"]
    kind: str
    name: str
    fields: list[str]


class SummaryOut(BaseModel):
    """How many resources the plan creates, updates and leaves unchanged."""

    created: int
    updated: int
    unchanged: int


class PlanOut(BaseModel):
    """What applying the file does (``dry_run``: the plan only) or did."""

    dry_run: bool
    changes: list[ChangeOut]
    summary: SummaryOut


def _parsed(body: ConfigIn) -> VigilConfig:
    try:
        return parse_config(body.yaml, body.source or "vigil.yaml", max_values=MAX_VALUES)
    except ConfigError as exc:  # every problem with its line and field
        raise ApiError(422, "validation_error", exc.message) from None


def _code_checks(request: Request, state: ServerState, plan: Plan) -> None:
    """What the file creates or changes that would run code on the server: ``admin`` and the
    code policy, exactly as ``POST /workflows``, ``/rules`` and ``/schedules`` check it."""
    for k in plan.kinds:
        changed = [*k.create, *(u.after for u in k.update)]
        for spec in changed:
            if k.kind == "workflow":
                check_workflow(request, state, spec)
            elif k.kind == "rule":
                check_rule(request, state, spec)
            elif k.kind == "schedule":
                check_schedule(request, state, spec)


def _refused(exc: ConfigError | FormatError) -> ApiError:
    return ApiError(422, "validation_error", exc.message)


@router.post(
    "/config/plan",
    response_model=PlanOut,
    responses=errors(400, 404, 413),
    dependencies=[WRITE],
)
def plan(body: ConfigIn, request: Request, state: ServerState = Depends(get_state)) -> Any:
    """What applying a vigil.yaml would create and update (nothing changes): ``vigil
    --server URL apply --dry-run``. The same checks as ``/config/apply``."""
    desired = _parsed(body)
    try:
        found = plan_config(state.db, desired)
    except (ConfigError, FormatError) as exc:
        raise _refused(exc) from None
    _code_checks(request, state, found)
    return plan_document(found, dry_run=True)


@router.post(
    "/config/apply",
    response_model=PlanOut,
    responses=errors(400, 404, 413),
    dependencies=[WRITE],
)
def apply(body: ConfigIn, request: Request, state: ServerState = Depends(get_state)) -> Any:
    """Create or update what a vigil.yaml describes, as ``vigil apply -f`` does locally
    (idempotent: the same file again changes nothing); answers the plan carried out."""
    desired = _parsed(body)
    try:
        done = apply_config(
            state.settings,
            state.db,
            desired,
            confined=state.settings,
            before=lambda p: _code_checks(request, state, p),
        )
    except (ConfigError, FormatError) as exc:
        raise _refused(exc) from None
    return plan_document(done, dry_run=False)


@router.get(
    "/config/export",
    response_model=ConfigOut,
    responses={200: {"content": {YAML_TYPE: {}}}},
    dependencies=[READ],
)
def export(request: Request, state: ServerState = Depends(get_state)) -> Any:
    """The catalog as a vigil.yaml (``vigil --server URL export``): JSON ``{"yaml"}``, or the
    file itself with ``Accept: application/yaml``. Secrets are written as the ``${env:NAME}``
    reference each came from, else ``***``; never as themselves."""
    text = dump_config(current_config(state.db, "export"))
    accept = request.headers.get("accept", "")
    if YAML_TYPE in accept or "text/yaml" in accept:
        return PlainTextResponse(text, media_type=YAML_TYPE)
    return {"yaml": text}

