"""The explanation of one captured inference, found by its inference id or event id.

An explainability execution with local values on (``save_local_shap_values``) writes, beside
Clarify's ``explanations_shap/out.csv``, one JSON line per explained record to
``explanations_shap/records.jsonl`` (:data:`RECORDS_FILE`): its row, ``inference_id``,
``event_id``, ``inference_time``, the feature values and, per label, the expected value and the
SHAP value of each feature. :func:`find_explanation` looks a record up in the executions of
the endpoint's ``ModelExplainability`` schedules, newest first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from vigil.monitor.explainability import RECORDS_FILE
from vigil.store.db import Database
from vigil.store.errors import NotFoundError
from vigil.store.models import Endpoint, Execution, Schedule

__all__ = ["RECORDS_FILE", "find_explanation"]

#: how many of the newest executions are searched
SEARCHED_EXECUTIONS = 1000
_DONE = ("Completed", "CompletedWithViolations")


def find_explanation(db: Database, endpoint: str, record_id: str) -> dict[str, Any]:
    """The explanation of the inference ``record_id`` (inference id or event id) of
    ``endpoint``, with the schedule and execution that computed it; NotFoundError when the
    endpoint does not exist or no execution explained that record."""
    with db.session() as s:
        if s.get(Endpoint, endpoint) is None:
            raise NotFoundError(f"no endpoint named {endpoint!r}")
        rows = s.execute(
            select(Execution.id, Execution.schedule_name, Execution.output_uri,
                   Execution.window_start, Execution.window_end)
            .join(Schedule, Schedule.name == Execution.schedule_name)
            .where(
                Execution.endpoint_name == endpoint,
                Schedule.monitor_type == "ModelExplainability",
                Execution.status.in_(_DONE),
                Execution.output_uri.is_not(None),
            )
            .order_by(Execution.scheduled_time.desc())
            .limit(SEARCHED_EXECUTIONS)
        ).all()
    needle = orjson.dumps(record_id)
    for ex_id, schedule, out, start, end in rows:
        path = Path(out or "") / RECORDS_FILE
        if not path.is_file():
            continue
        with path.open("rb") as f:
            for line in f:
                if needle not in line:  # cheap test before parsing
                    continue
                try:
                    doc = orjson.loads(line)
                except orjson.JSONDecodeError:  # not a record: a damaged line is skipped
                    continue
                if not isinstance(doc, dict):
                    continue
                if record_id in (doc.get("inference_id"), doc.get("event_id")):
                    return {
                        "endpoint": endpoint,
                        "schedule": schedule,
                        "execution_id": ex_id,
                        "window_start": start,
                        "window_end": end,
                        **doc,
                    }
    raise NotFoundError(
        f"no explanation of inference {record_id!r} of endpoint {endpoint!r}: no "
        "ModelExplainability execution with save_local_shap_values explained it"
    )
