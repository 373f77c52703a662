"""Action runs: every run and step attempt with input, output, error and timing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError

from vigil.actions.definitions import load, load_checked, put_rule, put_workflow
from vigil.actions.records import get_run, list_attempts, list_runs, run_to_dict
from vigil.actions.spec import Rule, Workflow, check_references
from vigil.actions.targets import http_target_urls
from vigil.app.lifecycle import delete_object
from vigil.app.references import check_stored_topics
from vigil.app.secrets import redact
from vigil.errors import ConfigError, VigilError
from vigil.net import check_urls
from vigil.server.code_checks import check_rule, check_workflow
from vigil.server.errors import ApiError
from vigil.server.schemas_common import errors
from vigil.server.schemas_runs import (
    RuleList,
    RuleOut,
    RunList,
    RunOut,
    WorkflowList,
    WorkflowOut,
)
from vigil.server.state import READ, WRITE, ServerState, get_state

router = APIRouter(responses=errors(401, 403, 422))


@router.get("/actions/runs", response_model=RunList, dependencies=[READ])
def runs(
    rule: str | None = None,
    workflow: str | None = None,
    status: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    state: ServerState = Depends(get_state),
) -> dict[str, Any]:
    found = list_runs(state.db, rule=rule, workflow=workflow, status=status, limit=limit)
    return {"runs": [run_to_dict(r) for r in found]}


@router.get(
    "/actions/runs/{run_id}", response_model=RunOut, responses=errors(404), dependencies=[READ]
)
def run(run_id: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return run_to_dict(get_run(state.db, run_id), list_attempts(state.db, run_id))


def _validated(model: Any, body: dict[str, Any]) -> Any:
    try:
        definition = model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or model.__name__
        raise ApiError(422, "validation_error", f"{where}: {first['msg']}") from None
    try:  # a literal address the outbound policy refuses (vigil.net), as a courtesy
        check_urls(http_target_urls(definition))
    except ConfigError as exc:
        raise ApiError(422, "validation_error", exc.message) from None
    return definition


def _check_topics(state: ServerState, definition: Rule | Workflow) -> None:
    try:
        check_stored_topics(state.db, definition)
    except VigilError as exc:
        raise ApiError(422, "validation_error", exc.message) from None


@router.post(
    "/workflows",
    status_code=201,
    response_model=WorkflowOut,
    responses=errors(400, 403, 413, 422),
    dependencies=[WRITE],
)
def create_workflow(
    body: dict[str, Any], request: Request, state: ServerState = Depends(get_state)
) -> dict:
    """Create or update a workflow (the same fields as in vigil.yaml); command and Python
    steps need the ``admin`` scope and the operator's code policy."""
    workflow = _validated(Workflow, body)
    check_workflow(request, state, workflow)
    _check_topics(state, workflow)
    put_workflow(state.db, workflow)
    return redact("workflow", workflow.model_dump(mode="json"))


@router.post(
    "/rules",
    status_code=201,
    response_model=RuleOut,
    responses=errors(400, 403, 413, 422),
    dependencies=[WRITE],
)
def create_rule(
    body: dict[str, Any], request: Request, state: ServerState = Depends(get_state)
) -> dict:
    """Create or update a rule; the workflows it names must exist. Command and Python targets
    need the ``admin`` scope and the operator's code policy."""
    rule = _validated(Rule, body)
    check_rule(request, state, rule)
    _, workflows = load(state.db)
    try:
        check_references([rule], workflows)
        check_stored_topics(state.db, rule)
    except VigilError as exc:
        raise ApiError(422, "validation_error", exc.message) from None
    put_rule(state.db, rule)
    return redact("rule", rule.model_dump(mode="json"))


def _out(kind: str, definition: Any, problems: dict[tuple[str, str], str]) -> dict[str, Any]:
    out = redact(kind, definition.model_dump(mode="json"))
    error = problems.get((kind, definition.name))
    return {**out, "error": error} if error else out


def _errors(problems: dict[tuple[str, str], str], *kinds: str) -> list[dict[str, str]]:
    return [
        {"kind": kind, "name": name, "error": error}
        for (kind, name), error in sorted(problems.items()) if kind in kinds
    ]


@router.get("/rules", response_model=RuleList, dependencies=[READ])
def rules(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """Every rule and workflow; ``errors`` names each one that fails alone, and why."""
    found, workflows, problems = load_checked(state.db)
    return {
        "rules": [_out("rule", r, problems) for r in found],
        "workflows": [_out("workflow", w, problems) for w in workflows.values()],
        "errors": _errors(problems, "rule", "workflow"),
    }


@router.get("/workflows", response_model=WorkflowList, dependencies=[READ])
def workflows(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """Every workflow; ``errors`` names each one that fails alone, and why."""
    _, found, problems = load_checked(state.db)
    return {
        "workflows": [_out("workflow", w, problems) for w in found.values()],
        "errors": _errors(problems, "workflow"),
    }


def _definition(state: ServerState, kind: str, name: str) -> dict[str, Any]:
    """One stored rule or workflow, its secrets redacted; one stored that cannot be loaded
    is a 409 saying why."""
    rules, workflows, problems = load_checked(state.db)
    found = workflows.get(name) if kind == "workflow" else next(
        (r for r in rules if r.name == name), None
    )
    if found is None and (kind, name) in problems:
        raise ApiError(409, "conflict", f"{kind} {name!r}: {problems[(kind, name)]}")
    if found is None:
        raise ApiError(404, "not_found", f"no {kind} named {name!r}")
    return _out(kind, found, problems)


@router.get(
    "/rules/{name}", response_model=RuleOut, responses=errors(404, 409), dependencies=[READ]
)
def get_rule(name: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """One rule."""
    return _definition(state, "rule", name)


@router.get(
    "/workflows/{name}", response_model=WorkflowOut, responses=errors(404, 409),
    dependencies=[READ],
)
def get_workflow(name: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """One workflow."""
    return _definition(state, "workflow", name)


DELETE: dict[str, Any] = {
    "status_code": 204,
    "responses": errors(404, 409),
    "dependencies": [WRITE],
}


@router.delete("/rules/{name}", **DELETE)
def delete_rule(name: str, state: ServerState = Depends(get_state)) -> None:
    """Delete a rule; the runs it started stay."""
    delete_object(state.db, "rule", name)


@router.delete("/workflows/{name}", **DELETE)
def delete_workflow(name: str, state: ServerState = Depends(get_state)) -> None:
    """Delete a workflow (409 while a rule or another workflow calls it)."""
    delete_object(state.db, "workflow", name)
