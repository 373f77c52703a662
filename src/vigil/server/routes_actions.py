"""Action runs: every run and step attempt with input, output, error and timing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import ValidationError

from vigil.actions.definitions import load, put_rule, put_workflow
from vigil.actions.records import get_run, list_attempts, list_runs, run_to_dict
from vigil.actions.spec import Rule, Workflow, check_references
from vigil.app.lifecycle import delete_object
from vigil.errors import VigilError
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
from vigil.store.models import ActionDefinition

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
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or model.__name__
        raise ApiError(422, "validation_error", f"{where}: {first['msg']}") from None


@router.post(
    "/workflows",
    status_code=201,
    response_model=WorkflowOut,
    responses=errors(400, 413),
    dependencies=[WRITE],
)
def create_workflow(body: dict[str, Any], state: ServerState = Depends(get_state)) -> dict:
    """Create or update a workflow (the same fields as in vigil.yaml)."""
    workflow = _validated(Workflow, body)
    put_workflow(state.db, workflow)
    return workflow.model_dump(mode="json")


@router.post(
    "/rules",
    status_code=201,
    response_model=RuleOut,
    responses=errors(400, 413),
    dependencies=[WRITE],
)
def create_rule(body: dict[str, Any], state: ServerState = Depends(get_state)) -> dict:
    """Create or update a rule; the workflows it names must exist."""
    rule = _validated(Rule, body)
    _, workflows = load(state.db)
    try:
        check_references([rule], workflows)
    except VigilError as exc:
        raise ApiError(422, "validation_error", exc.message) from None
    put_rule(state.db, rule)
    return rule.model_dump(mode="json")


@router.get("/rules", response_model=RuleList, dependencies=[READ])
def rules(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    found, workflows = load(state.db)
    return {
        "rules": [r.model_dump(mode="json") for r in found],
        "workflows": [w.model_dump(mode="json") for w in workflows.values()],
    }


@router.get("/workflows", response_model=WorkflowList, dependencies=[READ])
def workflows(state: ServerState = Depends(get_state)) -> dict[str, Any]:
    _, found = load(state.db)
    return {"workflows": [w.model_dump(mode="json") for w in found.values()]}


def _definition(state: ServerState, kind: str, name: str) -> dict[str, Any]:
    with state.db.session() as s:
        row = s.get(ActionDefinition, (kind, name))
        if row is None:
            raise ApiError(404, "not_found", f"no {kind} named {name!r}")
        return dict(row.spec)


@router.get("/rules/{name}", response_model=RuleOut, responses=errors(404), dependencies=[READ])
def get_rule(name: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    """One rule."""
    return _definition(state, "rule", name)


@router.get(
    "/workflows/{name}", response_model=WorkflowOut, responses=errors(404), dependencies=[READ]
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
