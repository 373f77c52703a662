"""Run facts: what a known event says about one run of a job, pipeline, build or workflow.

:func:`run_facts` reads an event in the envelope (:mod:`vigil.events.envelope`) from
SageMaker (training, processing, transform and tuning jobs, endpoints, pipelines and their
steps), CodePipeline (pipelines, stages, actions), CodeBuild, Step Functions, GitHub Actions,
GitLab CI and Vigil itself (training jobs, monitoring executions, action runs) and answers the
run's kind, name and id, its status normalised to ``started``, ``succeeded``, ``failed`` or
``stopped`` (``None`` for a passing state such as ``Stopping``), whether that is terminal,
the duration and the failure reason. A stop or a timeout (``Stopped``,
``MaxRuntimeExceeded``, ``TIMED_OUT``, ``ABORTED``) is counted as a failure unless
``stopped_is_failure=False`` (platform.md §5 #3); a superseded CodePipeline run is not.

>>> event = {"source": "aws.sagemaker", "detail-type": "SageMaker Training Job State Change",
...          "detail": {"TrainingJobName": "churn-1", "TrainingJobStatus": "Stopped",
...                     "SecondaryStatus": "MaxRuntimeExceeded",
...                     "TrainingStartTime": "1583831889050", "TrainingEndTime": "1583835489050",
...                     "LastModifiedTime": "1583835489999"}}
>>> f = run_facts(event)
>>> f.kind, f.name, f.status, f.terminal, f.failure, f.duration, f.reason
('training_job', 'churn-1', 'stopped', True, True, 3600.0, 'MaxRuntimeExceeded')
>>> run_facts(event, stopped_is_failure=False).failure
False
>>> run_facts({"source": "acme", "detail-type": "x", "detail": {}}) is None
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from vigil.events.envelope import VIGIL_SOURCE, EnvelopeError, parse_time

__all__ = ["KINDS", "STATUSES", "RunFacts", "dedup_key", "run_facts"]

STATUSES = ("started", "succeeded", "failed", "stopped")
KINDS = (
    "training_job", "processing_job", "transform_job", "tuning_job", "endpoint", "pipeline",
    "pipeline_step", "build", "state_machine", "workflow", "action", "github_workflow",
    "github_job", "gitlab_pipeline", "gitlab_job", "monitoring_execution",
)
_STARTED, _OK, _FAILED, _STOPPED = STATUSES
# raw status (upper-cased, ``_`` and spaces dropped) -> (normalised status, counts as failure)
_STATUS: dict[str, tuple[str | None, bool]] = {
    **{s: (_STARTED, False) for s in (
        "INPROGRESS", "EXECUTING", "STARTING", "STARTED", "RUNNING", "RESUMED", "CREATING",
        "UPDATING", "SYSTEMUPDATING", "PENDING", "CREATED", "REQUESTED", "QUEUED", "WAITING",
    )},
    **{s: (_OK, False) for s in ("COMPLETED", "SUCCEEDED", "SUCCESS", "INSERVICE")},
    **{s: (_FAILED, True) for s in (
        "FAILED", "FAULT", "FAILURE", "STARTUPFAILURE", "UPDATEROLLBACKFAILED", "DELETEFAILED",
    )},
    **{s: (_STOPPED, True) for s in (
        "STOPPED", "TIMEDOUT", "ABORTED", "CANCELED", "CANCELLED", "ABANDONED",
        "MAXRUNTIMEEXCEEDED", "MAXWAITTIMEEXCEEDED", "OUTOFSERVICE",
    )},
    "SUPERSEDED": (_STOPPED, False),
}


@dataclass(frozen=True)
class RunFacts:
    """One event's facts about one run (see the module's docstring)."""

    kind: str
    name: str
    run_id: str
    raw_status: str
    status: str | None
    terminal: bool
    failure: bool
    duration: float | None = None
    reason: str | None = None
    version: str = ""  # LastModifiedTime, attempt...: what tells two state changes apart
    url: str | None = None

    @property
    def run_key(self) -> str:
        """``kind/name/run_id``: the same run whatever event tells of it."""
        return f"{self.kind}/{self.name}/{self.run_id}"


def dedup_key(facts: RunFacts) -> str:
    """The key of one state change of one run: (resource, status, LastModifiedTime or
    attempt), hashed to 40 characters. SageMaker may emit several events, with distinct ids,
    for one state change; they share this key.

    >>> a = RunFacts("training_job", "j", "arn:j", "Completed", "succeeded", True, False,
    ...              version="1583835489999")
    >>> dedup_key(a) == dedup_key(RunFacts(**{**a.__dict__, "duration": 3.0}))
    True
    >>> dedup_key(a) == dedup_key(RunFacts(**{**a.__dict__, "raw_status": "Failed"}))
    False
    """
    text = "\x1f".join((facts.kind, facts.name, facts.run_id, facts.raw_status, facts.version))
    return hashlib.sha1(text.encode()).hexdigest()


def _norm(raw: str) -> str:
    return raw.upper().replace("_", "").replace(" ", "").replace("-", "")


def _time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return parse_time(value)
    except EnvelopeError:
        return None


def _seconds(start: Any, end: Any) -> float | None:
    a, b = _time(start), _time(end)
    return (b - a).total_seconds() if a is not None and b is not None else None


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _last(arn: str) -> str:
    """The name at the end of an ARN (``...:stateMachine:etl`` -> ``etl``, ``.../p`` -> ``p``)."""
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _facts(
    kind: str,
    name: Any,
    run_id: Any,
    raw: Any,
    stopped_is_failure: bool,
    *,
    duration: float | None = None,
    reason: Any = None,
    version: Any = "",
    url: Any = None,
    status_override: tuple[str | None, bool] | None = None,
) -> RunFacts | None:
    if not name or raw is None or raw == "":
        return None
    status, failure = status_override or _STATUS.get(_norm(str(raw)), (None, False))
    if status == _STOPPED and failure:
        failure = stopped_is_failure
    terminal = status in (_OK, _FAILED, _STOPPED)
    return RunFacts(
        kind=kind,
        name=str(name),
        run_id=_s(run_id) or str(name),
        raw_status=str(raw),
        status=status,
        terminal=terminal,
        failure=failure,
        duration=duration if terminal else None,
        reason=str(reason) if reason not in (None, "") else None,
        version=_s(version),
        url=str(url) if url else None,
    )


Extractor = Callable[[Mapping[str, Any], Mapping[str, Any], bool], "RunFacts | None"]


def _sagemaker_job(kind: str, prefix: str, start: str, end: str) -> Extractor:
    def extract(e: Mapping[str, Any], d: Mapping[str, Any], sf: bool) -> RunFacts | None:
        raw = d.get(f"{prefix}Status")
        secondary = d.get("SecondaryStatus")
        reason = d.get("FailureReason") or d.get("ExitMessage")
        if reason is None and secondary in ("MaxRuntimeExceeded", "MaxWaitTimeExceeded"):
            reason = secondary
        duration = _seconds(d.get(start), d.get(end))
        if duration is None:
            duration = _seconds(d.get("CreationTime"), d.get(end) or d.get("LastModifiedTime"))
        return _facts(
            kind, d.get(f"{prefix}Name"), d.get(f"{prefix}Arn"), raw, sf,
            duration=duration, reason=reason,
            version=f"{_s(d.get('LastModifiedTime'))}/{_s(secondary)}",
        )

    return extract


def _endpoint(e: Mapping[str, Any], d: Mapping[str, Any], sf: bool) -> RunFacts | None:
    return _facts(
        "endpoint", d.get("EndpointName"), d.get("EndpointArn") or d.get("EndpointName"),
        d.get("EndpointStatus"), sf, reason=d.get("FailureReason"),
        version=_s(d.get("LastModifiedTime")),
    )


def _sm_pipeline(e: Mapping[str, Any], d: Mapping[str, Any], sf: bool) -> RunFacts | None:
    arn = _s(d.get("pipelineArn"))
    return _facts(
        "pipeline", _last(arn) if arn else None, d.get("pipelineExecutionArn"),
        d.get("currentPipelineExecutionStatus"), sf,
        duration=_seconds(d.get("executionStartTime"), d.get("executionEndTime")),
        reason=d.get("failureReason"),
    )


def _sm_step(e: Mapping[str, Any], d: Mapping[str, Any], sf: bool) -> RunFacts | None:
    arn = _s(d.get("pipelineArn"))
    step = d.get("stepName")
    return _facts(
        "pipeline_step", f"{_last(arn)}/{step}" if arn and step else None,
        f"{_s(d.get('pipelineExecutionArn'))}/{step}", d.get("currentStepStatus"), sf,
        duration=_seconds(d.get("stepStartTime"), d.get("stepEndTime")),
        reason=d.get("failureReason"),
    )


def _cp_level(level: str) -> Extractor:
    def extract(e: Mapping[str, Any], d: Mapping[str, Any], sf: bool) -> RunFacts | None:
        pipeline, execution = d.get("pipeline"), _s(d.get("execution-id"))
        name, run_id = pipeline, execution
        kind = {"pipeline": "pipeline", "stage": "pipeline_step", "action": "action"}[level]
        reason = None
        if level != "pipeline":
            name, run_id = f"{pipeline}/{d.get('stage')}", f"{execution}/{d.get('stage')}"
        if level == "action":
            name = f"{name}/{d.get('action')}"
            run_id = f"{run_id}/{d.get('action')}/{_s(d.get('action-execution-id'))}"
            result = d.get("execution-result") or {}
            if isinstance(result, Mapping):
                summary = result.get("external-execution-summary")
                code = result.get("error-code")
                reason = ": ".join(str(x) for x in (code, summary) if x) or None
        elif level == "pipeline":
            reason = d.get("stop-execution-comments")
        start = d.get("start-time")
        return _facts(
            kind, name if pipeline else None, run_id, d.get("state"), sf,
            duration=_seconds(start, e.get("time")) if start else None, reason=reason,
            version=_s(d.get("pipeline-execution-attempt")),
        )

    return extract


def _codebuild(e: Mapping[str, Any], d: Mapping[str, Any], sf: bool) -> RunFacts | None:
    info = d.get("additional-information") or {}
    info = info if isinstance(info, Mapping) else {}
    duration = None
    phases = info.get("phases")
    if isinstance(phases, list):
        total = [p.get("duration-in-seconds") for p in phases if isinstance(p, Mapping)]
        if any(isinstance(x, int | float) for x in total):
            duration = float(sum(x for x in total if isinstance(x, int | float)))
    if duration is None:
        start = _codebuild_time(info.get("build-start-time"))
        end = _time(e.get("time"))
        duration = (end - start).total_seconds() if start and end else None
    reason = None
    if isinstance(phases, list):
        bad = [p for p in phases if isinstance(p, Mapping) and p.get("phase-status") not in (
            None, "SUCCEEDED")]
        if bad:
            p = bad[-1]
            context = p.get("phase-context") or []
            reason = f"{p.get('phase-type')} {p.get('phase-status')}" + (
                f": {'; '.join(str(c) for c in context if c)}" if any(context) else "")
    logs = info.get("logs") if isinstance(info.get("logs"), Mapping) else {}
    return _facts(
        "build", d.get("project-name"), d.get("build-id"), d.get("build-status"), sf,
        duration=duration, reason=reason, version=_s(d.get("current-phase")),
        url=(logs or {}).get("deep-link"),
    )


def _codebuild_time(value: Any) -> datetime | None:
    """``"Sep 1, 2017 4:12:29 PM"`` (CodeBuild's additional-information times), in UTC."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%b %d, %Y %I:%M:%S %p").replace(tzinfo=timezone.utc)
    except ValueError:
        return _time(value)


def _states(e: Mapping[str, Any], d: Mapping[str, Any], sf: bool) -> RunFacts | None:
    machine = _s(d.get("stateMachineArn"))
    reason = ": ".join(str(x) for x in (d.get("error"), d.get("cause")) if x) or None
    return _facts(
        "state_machine", _last(machine) if machine else None, d.get("executionArn"),
        d.get("status"), sf, duration=_seconds(d.get("startDate"), d.get("stopDate")),
        reason=reason, version=_s(d.get("redriveCount")),
    )


def _github_status(status: Any, conclusion: Any) -> tuple[str, tuple[str | None, bool] | None]:
    if status != "completed":
        return _s(status), (_STARTED, False) if status in ("queued", "in_progress",
                                                            "requested", "waiting") else None
    table = {
        "success": (_OK, False), "neutral": (_OK, False), "failure": (_FAILED, True),
        "startup_failure": (_FAILED, True), "action_required": (_FAILED, True),
        "timed_out": (_STOPPED, True), "cancelled": (_STOPPED, True),
        "stale": (None, False), "skipped": (None, False),
    }
    return f"completed/{_s(conclusion)}", table.get(_s(conclusion), (None, False))


def _github_run(e: Mapping[str, Any], d: Mapping[str, Any], sf: bool) -> RunFacts | None:
    run = d.get("workflow_run")
    if not isinstance(run, Mapping):
        return None
    repo = (d.get("repository") or {}).get("full_name") or ""
    raw, status = _github_status(run.get("status"), run.get("conclusion"))
    return _facts(
        "github_workflow", f"{repo}/{run.get('name')}" if repo else run.get("name"),
        f"{run.get('id')}/{_s(run.get('run_attempt') or 1)}", raw, sf,
        duration=_seconds(run.get("run_started_at"), run.get("updated_at")),
        reason=run.get("conclusion") if status and status[1] else None,
        version=_s(run.get("run_attempt") or 1), url=run.get("html_url"),
        status_override=status or (None, False),
    )


def _github_job(e: Mapping[str, Any], d: Mapping[str, Any], sf: bool) -> RunFacts | None:
    job = d.get("workflow_job")
    if not isinstance(job, Mapping):
        return None
    repo = (d.get("repository") or {}).get("full_name") or ""
    raw, status = _github_status(job.get("status"), job.get("conclusion"))
    failed = [s.get("name") for s in job.get("steps") or [] if isinstance(s, Mapping)
              and s.get("conclusion") in ("failure", "timed_out", "cancelled")]
    reason = None
    if status and status[1]:
        reason = f"{job.get('conclusion')}" + (f" at step {failed[0]!r}" if failed else "")
    return _facts(
        "github_job", "/".join(x for x in (repo, _s(job.get("workflow_name")),
                                           _s(job.get("name"))) if x),
        f"{job.get('id')}/{_s(job.get('run_attempt') or 1)}", raw, sf,
        duration=_seconds(job.get("started_at"), job.get("completed_at")), reason=reason,
        version=_s(job.get("run_attempt") or 1), url=job.get("html_url"),
        status_override=status or (None, False),
    )


_GITLAB = {
    "created": (_STARTED, False), "waiting_for_resource": (_STARTED, False),
    "preparing": (_STARTED, False), "pending": (_STARTED, False),
    "running": (_STARTED, False), "success": (_OK, False), "failed": (_FAILED, True),
    "canceled": (_STOPPED, True), "skipped": (None, False), "manual": (None, False),
    "scheduled": (None, False),
}


def _gitlab_pipeline(e: Mapping[str, Any], d: Mapping[str, Any], sf: bool) -> RunFacts | None:
    attrs = d.get("object_attributes")
    if not isinstance(attrs, Mapping):
        return None
    project = (d.get("project") or {}).get("path_with_namespace")
    raw = _s(attrs.get("status"))
    duration = attrs.get("duration")
    reason = None
    if raw == "failed":
        bad = [b for b in d.get("builds") or [] if isinstance(b, Mapping)
               and b.get("status") == "failed"]
        if bad:
            b = bad[0]
            reason = f"job {b.get('name')!r} (stage {b.get('stage')}) failed" + (
                f": {b['failure_reason']}" if b.get("failure_reason") else "")
    return _facts(
        "gitlab_pipeline", project, attrs.get("id"), raw, sf,
        duration=float(duration) if isinstance(duration, int | float) else None,
        reason=reason, url=attrs.get("url"), status_override=_GITLAB.get(raw, (None, False)),
    )


def _gitlab_job(e: Mapping[str, Any], d: Mapping[str, Any], sf: bool) -> RunFacts | None:
    raw = _s(d.get("build_status"))
    project = (d.get("project") or {}).get("path_with_namespace") or d.get("project_name")
    duration = d.get("build_duration")
    return _facts(
        "gitlab_job", f"{project}/{d.get('build_name')}" if project else None,
        d.get("build_id"), raw, sf,
        duration=float(duration) if isinstance(duration, int | float) else None,
        reason=d.get("build_failure_reason") if raw == "failed" else None,
        status_override=_GITLAB.get(raw, (None, False)),
    )


def _vigil_execution(e: Mapping[str, Any], d: Mapping[str, Any], sf: bool) -> RunFacts | None:
    raw = d.get("status")
    override = (_OK, False) if raw == "CompletedWithViolations" else None
    return _facts(
        "monitoring_execution", e.get("schedule_name"), d.get("execution_id"), raw, sf,
        reason=d.get("failure_reason"), status_override=override,
    )


def _vigil_action(e: Mapping[str, Any], d: Mapping[str, Any], sf: bool) -> RunFacts | None:
    workflow = d.get("workflow")
    return _facts(
        "workflow" if workflow else "action", workflow or d.get("rule") or d.get("target_type"),
        d.get("run_id"), d.get("status"), sf,
        duration=_seconds(d.get("started_at"), d.get("ended_at")),
        reason=": ".join(str(x) for x in (d.get("error"), d.get("cause")) if x) or None,
    )


_TRAINING = _sagemaker_job("training_job", "TrainingJob", "TrainingStartTime", "TrainingEndTime")
_EXTRACTORS: dict[tuple[str, str], Extractor] = {
    ("aws.sagemaker", "SageMaker Training Job State Change"): _TRAINING,
    ("aws.sagemaker", "SageMaker Processing Job State Change"): _sagemaker_job(
        "processing_job", "ProcessingJob", "ProcessingStartTime", "ProcessingEndTime"),
    ("aws.sagemaker", "SageMaker Transform Job State Change"): _sagemaker_job(
        "transform_job", "TransformJob", "TransformStartTime", "TransformEndTime"),
    ("aws.sagemaker", "SageMaker HyperParameter Tuning Job State Change"): _sagemaker_job(
        "tuning_job", "HyperParameterTuningJob", "HyperParameterTuningStartTime",
        "HyperParameterTuningEndTime"),
    ("aws.sagemaker", "SageMaker Endpoint State Change"): _endpoint,
    ("aws.sagemaker", "SageMaker Model Building Pipeline Execution Status Change"): _sm_pipeline,
    ("aws.sagemaker", "SageMaker Model Building Pipeline Execution Step Status Change"): _sm_step,
    ("aws.codepipeline", "CodePipeline Pipeline Execution State Change"): _cp_level("pipeline"),
    ("aws.codepipeline", "CodePipeline Stage Execution State Change"): _cp_level("stage"),
    ("aws.codepipeline", "CodePipeline Action Execution State Change"): _cp_level("action"),
    ("aws.codebuild", "CodeBuild Build State Change"): _codebuild,
    ("aws.states", "Step Functions Execution Status Change"): _states,
    ("github", "GitHub Workflow Run"): _github_run,
    ("github", "GitHub Workflow Job"): _github_job,
    ("gitlab", "GitLab Pipeline Hook"): _gitlab_pipeline,
    ("gitlab", "GitLab Job Hook"): _gitlab_job,
    (VIGIL_SOURCE, "Vigil Training Job State Change"): _TRAINING,
    (VIGIL_SOURCE, "Vigil Monitoring Execution Completed"): _vigil_execution,
    (VIGIL_SOURCE, "Vigil Action Run State Change"): _vigil_action,
}


def run_facts(event: Mapping[str, Any], *, stopped_is_failure: bool = True) -> RunFacts | None:
    """The run facts of ``event`` (an envelope dict), or ``None`` when it tells of no run
    this module knows (see the module's docstring)."""
    extract = _EXTRACTORS.get((str(event.get("source")), str(event.get("detail-type"))))
    detail = event.get("detail")
    if extract is None or not isinstance(detail, Mapping):
        return None
    return extract(event, detail, stopped_is_failure)
