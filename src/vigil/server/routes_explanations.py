"""The explanation of one captured inference: ``GET /endpoints/{name}/explanations/{id}``.

``id`` is the inference id or the event id of a capture; the answer is the latest
``ModelExplainability`` execution's local SHAP values of that record (see
:mod:`vigil.app.explanations`), 404 when no execution explained it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from vigil.app.explanations import find_explanation
from vigil.server.schemas_common import errors
from vigil.server.state import READ, ServerState, get_state

router = APIRouter(responses=errors(401, 403, 422))


class LabelExplanation(BaseModel):
    """One label's explanation of the record: the baseline's expected value and each
    feature's SHAP value (they sum to the model's output minus the expected value)."""

    expected_value: float | None
    shap_values: dict[str, float]


class ExplanationOut(BaseModel):
    """The local explanation of one captured inference."""

    endpoint: str
    schedule: str
    execution_id: str
    window_start: datetime
    window_end: datetime
    row: int
    inference_id: str | None
    event_id: str | None
    inference_time: str | None
    features: dict[str, Any]
    explanations: dict[str, LabelExplanation]


@router.get(
    "/endpoints/{name}/explanations/{record_id}",
    response_model=ExplanationOut,
    responses=errors(404),
    dependencies=[READ],
)
def explanation(
    name: str = Path(max_length=255),
    record_id: str = Path(max_length=1024),
    state: ServerState = Depends(get_state),
) -> dict[str, Any]:
    return find_explanation(state.db, name, record_id)
