"""Action runs: every run and step attempt with input, output, error and timing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from vigil.actions.records import get_run, list_attempts, list_runs, run_to_dict
from vigil.server.state import READ, ServerState, get_state

router = APIRouter()


@router.get("/actions/runs", dependencies=[READ])
def runs(
    rule: str | None = None,
    workflow: str | None = None,
    status: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    state: ServerState = Depends(get_state),
) -> dict[str, Any]:
    found = list_runs(state.db, rule=rule, workflow=workflow, status=status, limit=limit)
    return {"runs": [run_to_dict(r) for r in found]}


@router.get("/actions/runs/{run_id}", dependencies=[READ])
def run(run_id: str, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    return run_to_dict(get_run(state.db, run_id), list_attempts(state.db, run_id))
