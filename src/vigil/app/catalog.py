"""The catalog of endpoints, baselines and schedules: create, update, apply, export.

Shared by the server's routes and ``vigil apply`` / ``vigil export``: a baseline is copied
into ``{baselines}/{name}/`` (from a baseline directory, or built from data with its
options), and its source and options are kept so that exporting and re-applying the same
file changes nothing. With ``confined`` (what the server passes, the API's ``POST
/config/apply`` too) a baseline's ``path`` and an endpoint's ``capture_uri`` must resolve
inside the data directory or the operator's allowed roots (:mod:`vigil.store.locations`;
relative paths start at the data directory); the operator's own ``vigil apply`` is not
confined.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from vigil.actions.definitions import put_rule, put_workflow, stored_specs
from vigil.alerts.defaults import DEFAULT_PREFIX, ensure_default_alarms
from vigil.alerts.notify import put_topic, subscribe
from vigil.alerts.notify.platform import put_platform_spec, stored_platform_spec
from vigil.alerts.platform import (
    ENDPOINT_PREFIX,
    HOST_PREFIX,
    endpoint_alarms,
    ensure_endpoint_alarms,
    ensure_platform_alarms,
    load_defaults,
    save_defaults,
    stored_defaults,
)
from vigil.alerts.service import put_alarm
from vigil.analysis.baseline import Baseline, suggest_baseline
from vigil.analysis.estimation import CBPE_FILE
from vigil.analysis.model_quality import ModelQualityBaseline
from vigil.app.config import (
    BaselineSpec,
    EndpointSpec,
    Plan,
    ScheduleSpec,
    SubscriptionSpec,
    TopicSpec,
    VigilConfig,
    diff_config,
)
from vigil.app.dashboards import put_dashboard, stored_dashboards
from vigil.app.prom_targets import put_scrape_config, stored_scrape_configs
from vigil.app.references import action_targets, check_alarm_actions, check_references
from vigil.app.secrets import stored_form
from vigil.errors import ConfigError, NotFoundError
from vigil.formats.clarify_analysis import AnalysisDocument
from vigil.formats.clarify_config import AnalysisConfig
from vigil.io.remote import fetch_scope
from vigil.locations import Location, as_location, write_bytes_atomic
from vigil.schedule import parse_offset, parse_schedule
from vigil.store.artifacts import baseline_dir
from vigil.store.db import Database
from vigil.store.locations import confine_location, confine_tree
from vigil.store.metrics import MetricStore
from vigil.store.models import (
    AlarmRecord,
    BaselineRecord,
    Endpoint,
    Event,
    Schedule,
    SubscriptionRecord,
    TopicRecord,
)
from vigil.store.secrets import SecretRefError, box_of, has_ref
from vigil.store.settings import Settings

_READER_OPTIONS = ("format", "header", "capture_content")


CLARIFY_CONFIG = "analysis_config.json"


def clarify_analysis_file(source: Location) -> Location | None:
    """The Clarify ``analysis.json`` a baseline source is (the file, or a folder holding one
    and no statistics.json), else None."""
    if source.is_dir():
        found = source / "analysis.json"
        if found.is_file() and not (source / "statistics.json").exists():
            return found
        return None
    if source.suffix == ".json" and source.is_file():
        try:
            doc = orjson.loads(source.read_bytes())
        except orjson.JSONDecodeError:
            return None
        keys = ("pre_training_bias_metrics", "post_training_bias_metrics", "explanations")
        if isinstance(doc, dict) and any(k in doc for k in keys):
            return source
    return None


def is_model_quality(directory: Location) -> bool:
    """Whether a baseline directory holds model-quality statistics (``*_metrics`` keys)."""
    try:
        data = orjson.loads((directory / "statistics.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(data, dict) and any(k.endswith("_metrics") for k in data)


def upsert_endpoint(
    db: Database, spec: EndpointSpec, *, confined: Settings | None = None
) -> Endpoint:
    """Create or update an endpoint and its default alarms (:mod:`vigil.alerts.platform`);
    with ``confined`` (the server's settings) its ``capture_uri`` must lie in an allowed
    root, and is stored resolved."""
    defaults = load_defaults(db)
    endpoint_alarms(spec.name, spec.variant, spec.config, defaults.endpoint_alarms)  # checks
    if confined is not None and spec.capture_uri:
        spec = spec.model_copy(
            update={"capture_uri": confine_location(confined, spec.capture_uri, "capture_uri")}
        )
    with db.session() as s:
        row = s.get(Endpoint, spec.name)
        if row is None:
            row = Endpoint(name=spec.name)
            s.add(row)
        row.variant, row.capture_uri = spec.variant, spec.capture_uri
        row.config = dict(spec.config) or None
        s.flush()
    ensure_endpoint_alarms(db, spec.name, defaults)
    with db.session() as s:
        stored = s.get(Endpoint, spec.name)
        assert stored is not None
        return stored


_UPLOAD_HINT = "a baseline from elsewhere arrives by upload (POST /api/v1/baselines/upload)"


def register_baseline(
    settings: Settings, db: Database, spec: BaselineSpec, *, confined: bool = False
) -> BaselineRecord:
    """Copy (or build) a baseline into the data directory and record it; ``confined``: the
    path must resolve inside an allowed root (see the module's docstring)."""
    source = as_location(spec.path)  # a local path, or an s3:// object or prefix
    if confined:
        source = as_location(
            confine_location(settings, spec.path, "path", must_exist=True, hint=_UPLOAD_HINT)
        )
        if isinstance(source, Path) and source.is_dir():
            confine_tree(settings, source, "path", spec.path)
    if not source.exists():
        raise ConfigError(f"baseline {spec.name!r}: {source}: no such file or directory")
    target = baseline_dir(settings, spec.name)
    kind = "data_quality"
    clarify = clarify_analysis_file(source)
    if clarify is not None:
        AnalysisDocument.load(clarify)  # validates it
        target.mkdir(parents=True, exist_ok=True)
        _copy(clarify, target / "analysis.json")
        if (clarify.parent / CLARIFY_CONFIG).is_file():
            AnalysisConfig.load(clarify.parent / CLARIFY_CONFIG)
            _copy(clarify.parent / CLARIFY_CONFIG, target / CLARIFY_CONFIG)
        kind = "clarify"
    elif source.is_dir() and is_model_quality(source):
        ModelQualityBaseline.load(source)  # validates both files
        target.mkdir(parents=True, exist_ok=True)
        for name in ("statistics.json", "constraints.json", CBPE_FILE):
            if (source / name).is_file():
                _copy(source / name, target / name)
        kind = "model_quality"
    elif source.is_dir() and any(
        (source / name).exists() for name in ("statistics.json", "constraints.json")
    ):
        Baseline.load(source).save(target)  # validates both files; says which is missing
    else:
        options: dict[str, Any] = dict(spec.options)
        reader = {k: options.pop(k) for k in _READER_OPTIONS if k in options}
        # a server lives long: the objects fetched from a bucket to build it go when it is
        # built, not when the process exits
        with fetch_scope():
            built = suggest_baseline(str(source), **reader, **options)
        with tempfile.TemporaryDirectory() as tmp:
            built.save(tmp)
            Baseline.load(tmp).save(target)
    with db.session() as s:
        if spec.endpoint is not None and s.get(Endpoint, spec.endpoint) is None:
            raise NotFoundError(f"baseline {spec.name!r}: no endpoint named {spec.endpoint!r}")
        row = s.get(BaselineRecord, spec.name)
        change = "registered" if row is None else "replaced"
        if row is None:
            row = BaselineRecord(name=spec.name)
            s.add(row)
        row.endpoint_name, row.uri, row.kind = spec.endpoint, str(target), kind
        row.source, row.options = str(spec.path), dict(spec.options)
        s.add(baseline_event(spec, kind, change))
        s.flush()
        return row


def _copy(source: Location, target: Location) -> None:
    """Copy one baseline file (from disk or a bucket) into the baselines root."""
    if isinstance(source, Path) and isinstance(target, Path):
        shutil.copyfile(source, target)
    else:
        write_bytes_atomic(target, source.read_bytes())


BASELINE_CHANGED = "baseline_changed"


def baseline_event(spec: BaselineSpec, kind: str, change: str) -> Event:
    """Vigil's ``baseline_changed`` event of a baseline registered or replaced now: what
    changed before a drift finding (:func:`vigil.app.context_events.what_changed`), and what
    rules may match (``{"kind": ["baseline_changed"]}``)."""
    where = f" of endpoint {spec.endpoint}" if spec.endpoint else ""
    return Event(
        kind=BASELINE_CHANGED,
        endpoint_name=spec.endpoint,
        time=datetime.now(timezone.utc),
        resources=[f"vigil:baseline/{spec.name}"],
        detail={
            "baseline": spec.name, "endpoint": spec.endpoint, "baseline_kind": kind,
            "change": change, "source": str(spec.path),
            "summary": f"baseline {spec.name}{where} {change} from {spec.path}",
        },
    )


def upsert_schedule(db: Database, spec: ScheduleSpec, check_actions: bool = True) -> Schedule:
    """Create or update a schedule (its endpoint and baseline must exist, and the topics its
    ``default_alarm_actions`` name, unless ``check_actions`` is False: ``apply_config`` has
    checked the whole file already)."""
    parse_schedule(spec.expression)
    if check_actions:
        actions = spec.config.get("default_alarm_actions") or []
        check_alarm_actions(
            {"alarm_actions": actions if isinstance(actions, list) else [actions]},
            action_targets(db),
            f"schedule {spec.name!r} config.default_alarm_actions",
        )
    for value in (spec.window_start_offset, spec.window_end_offset):
        if value is not None:
            parse_offset(value)
    with db.session() as s:
        if s.get(Endpoint, spec.endpoint) is None:
            raise NotFoundError(f"schedule {spec.name!r}: no endpoint named {spec.endpoint!r}")
        if s.get(BaselineRecord, spec.baseline) is None:
            raise NotFoundError(f"schedule {spec.name!r}: no baseline named {spec.baseline!r}")
        row = s.get(Schedule, spec.name)
        if row is None:
            row = Schedule(name=spec.name)
            s.add(row)
        row.endpoint_name, row.baseline_name, row.expression = (
            spec.endpoint,
            spec.baseline,
            spec.expression,
        )
        row.window_start_offset, row.window_end_offset = (
            spec.window_start_offset,
            spec.window_end_offset,
        )
        row.monitor_type, row.status, row.config = spec.monitor_type, spec.status, spec.config
        s.flush()
    ensure_default_alarms(db, spec)
    return row


def current_config(db: Database, secrets: str = "diff") -> VigilConfig:
    """The stored catalog as a monitoring-as-code document.

    ``secrets`` says how secret settings are written: ``"export"`` (the ``${env:NAME}``
    reference each came from, else a redaction), ``"plain"`` (the secrets themselves) or
    ``"diff"`` (what a plan compares: the reference while its variable still holds the
    stored value, else the value).
    """
    with db.session() as s:
        endpoints = [
            EndpointSpec(
                name=e.name, variant=e.variant, capture_uri=e.capture_uri, config=e.config or {}
            )
            for e in s.scalars(select(Endpoint).order_by(Endpoint.name))
        ]
        baselines = [
            BaselineSpec(
                name=b.name,
                endpoint=b.endpoint_name,
                path=b.source or b.uri,
                options=b.options or {},
            )
            for b in s.scalars(select(BaselineRecord).order_by(BaselineRecord.name))
        ]
        schedules = [
            ScheduleSpec(
                name=x.name,
                endpoint=x.endpoint_name,
                baseline=x.baseline_name or "",
                expression=x.expression,
                window_start_offset=x.window_start_offset,
                window_end_offset=x.window_end_offset,
                monitor_type=x.monitor_type,
                status=x.status,
                config=x.config or {},
            )
            for x in s.scalars(select(Schedule).order_by(Schedule.name))
        ]
    return VigilConfig(
        endpoints=endpoints,
        baselines=baselines,
        schedules=schedules,
        platform=stored_platform_spec(db),
        **_alerting_config(db, secrets),
        scrape_configs=stored_scrape_configs(db, secrets),
        dashboards=stored_dashboards(db),
        defaults=stored_defaults(db),
    )


def _alerting_config(db: Database, secrets: str) -> dict[str, Any]:
    """Topics, alarms, workflows and rules as stored (a schedule's default alarms belong to
    the schedule, which recreates them, so they are not listed), secrets as ``secrets``."""
    box = box_of(db)

    def shown(kind: str, doc: dict[str, Any]) -> dict[str, Any]:
        return stored_form(kind, doc, box, secrets)

    with db.session() as s:
        subs = list(s.scalars(select(SubscriptionRecord).order_by(SubscriptionRecord.id)))
        topics = [
            TopicSpec(
                name=t.name,
                grouping=t.grouping,
                subscriptions=[
                    SubscriptionSpec(
                        id=x.id,
                        protocol=x.protocol,
                        config=shown(x.protocol, x.config or {}),
                        filter_policy=x.filter_policy,
                        retry=x.retry,
                        min_severity=x.min_severity,
                    )
                    for x in subs
                    if x.topic == t.name
                ],
            )
            for t in s.scalars(select(TopicRecord).order_by(TopicRecord.name))
        ]
        alarms = [
            r.spec
            for r in s.scalars(select(AlarmRecord).order_by(AlarmRecord.name))
            if not str(r.spec.get("description", "")).startswith(
                (DEFAULT_PREFIX, ENDPOINT_PREFIX, HOST_PREFIX)
            )
        ]
    defs = sorted(stored_specs(db), key=lambda d: d.name)
    return {
        "topics": topics,
        "alarms": alarms,
        "workflows": [shown("workflow", d.spec) for d in defs if d.kind == "workflow"],
        "rules": [shown("rule", d.spec) for d in defs if d.kind == "rule"],
    }


def _apply_topic(db: Database, spec: TopicSpec, environ: Mapping[str, str] | None) -> None:
    put_topic(db, spec.name, spec.grouping.model_dump() if spec.grouping else None)
    for sub in spec.subscriptions:
        subscribe(
            db,
            spec.name,
            sub.protocol,
            dict(sub.config),
            filter_policy=sub.filter_policy,
            retry=sub.retry,
            id=sub.id,
            environ=environ,  # vigil apply resolves ${env:NAME} references; the API does not
            min_severity=sub.min_severity,
        )


def _changed(plan: Plan, kind: str) -> list[Any]:
    """The specs of ``kind`` the plan creates or updates."""
    for k in plan.kinds:
        if k.kind == kind:
            return [*k.create, *(u.after for u in k.update)]
    return []


def _refs_in(value: Any, where: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _refs_in(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _refs_in(item, f"{where}[{i}]")
    elif has_ref(value):
        yield where


def _check_confined(settings: Settings, plan: Plan) -> None:
    """What a confined apply refuses, checked before anything changes: a baseline path or
    capture URI outside the allowed roots, an ``${env:NAME}`` reference (the server's
    environment is not the caller's)."""
    for e in _changed(plan, "endpoint"):
        if e.capture_uri:
            confine_location(settings, e.capture_uri, f"endpoints[{e.name}].capture_uri")
    for b in _changed(plan, "baseline"):
        source = confine_location(
            settings, b.path, f"baselines[{b.name}].path", must_exist=True, hint=_UPLOAD_HINT
        )
        if Path(source).is_dir():
            confine_tree(settings, Path(source), f"baselines[{b.name}].path", b.path)
    for kind in ("topic", "workflow", "rule", "scrape_config"):
        for spec in _changed(plan, kind):
            doc = spec.model_dump(mode="json") if hasattr(spec, "model_dump") else spec
            for where in _refs_in(doc, f"{kind}s[{spec.name}]"):
                raise SecretRefError(
                    f"{where}: ${{env:NAME}} references are resolved by a local `vigil apply` "
                    "only (the server does not read its environment for a file sent to it); "
                    "give the value itself"
                )


def plan_config(db: Database, desired: VigilConfig) -> Plan:
    """What applying ``desired`` would do (``vigil apply --dry-run``, ``POST
    /config/plan``): its references checked against what is stored, then the diff."""
    current = current_config(db)
    check_references(current, desired)  # exactly what apply_config checks first
    return diff_config(current, desired)


def apply_config(
    settings: Settings,
    db: Database,
    desired: VigilConfig,
    *,
    confined: Settings | None = None,
    before: Callable[[Plan], None] | None = None,
) -> Plan:
    """Create or update what ``desired`` describes; unchanged objects are left alone.

    Returns the plan that was carried out (``plan.summary()``: "created 1, updated 0, ...").
    ``confined`` (the server's settings, ``POST /api/v1/config/apply``) confines every
    baseline path and capture URI to the allowed roots, as the individual routes do, and
    reads no ``${env:NAME}`` reference from the server's environment (refused: give the
    value). ``before(plan)`` runs once the plan is known and before anything changes (the
    API's scope and code-policy checks): what it raises leaves everything as it was.
    """
    current = current_config(db)
    check_references(current, desired)  # as --dry-run does
    plan = diff_config(current, desired)
    if before is not None:
        before(plan)
    if confined is not None:
        _check_confined(confined, plan)
    environ: Mapping[str, str] | None = None if confined is not None else os.environ
    by_kind: dict[str, Any] = {
        "endpoint": lambda spec: upsert_endpoint(db, spec, confined=confined),
        "baseline": lambda spec: register_baseline(
            settings, db, spec, confined=confined is not None
        ),
        "schedule": lambda spec: upsert_schedule(db, spec, check_actions=False),
        "topic": lambda spec: _apply_topic(db, spec, environ),
        "alarm": lambda spec: put_alarm(db, spec),
        "workflow": lambda spec: put_workflow(db, spec, environ=environ),
        "rule": lambda spec: put_rule(db, spec, environ=environ),
        "scrape_config": lambda spec: put_scrape_config(db, spec, environ=environ),
        "dashboard": lambda spec: put_dashboard(db, spec),
    }
    if desired.defaults is not None and desired.defaults != current.defaults:
        save_defaults(db, desired.defaults)  # before the endpoints, which read it
    for kind_plan in plan.kinds:
        run = by_kind.get(kind_plan.kind)
        if run is None:  # the platform: and defaults: sections, applied below
            continue
        for spec in kind_plan.create:
            run(spec)
        for update in kind_plan.update:
            run(update.after)
    platform_changed = False
    if desired.platform is not None and desired.platform != current.platform:
        put_platform_spec(db, desired.platform)  # the platform: block (failure notifications)
        platform_changed = True
    if platform_changed or (desired.defaults is not None and desired.defaults != current.defaults):
        # every endpoint's and host's default alarms at once (their topics default to the
        # platform block's)
        ensure_platform_alarms(db, MetricStore(db))
    return plan
